// SPDX-License-Identifier: BSD-3-Clause
// TCP packet-level tests of closing (RFC 9293 §3.6, §3.6.1, §3.10.4 CLOSE,
// §3.10.5 ABORT): every closing transition of Figure 5, simultaneous
// close, half-close both ways, the 2 MSL of TIME-WAIT with RFC 1337 and
// RFC 6191, the TIME-WAIT table's bound, ABORT, and closing with data in
// flight (RFC 1122 §4.2.2.13).
//
// A receive buffer of 4096 bytes without window scaling or timestamps keeps
// every window field plain (4096: the fixture takes each DATA event at
// once); one test turns timestamps on for RFC 6191's TSval rule. The MSL is
// 1 s, so TIME-WAIT lasts 2000 ms.
#include "tcp_harness.h"

#include <cerrno>
#include <string>
#include <vector>

namespace {

constexpr uint32_t kRcvBuf = 4096;
constexpr uint32_t kMslMs = 1000;

class TcpClose : public TcpTest {
protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		cfg_.tcp_rcvbuf = kRcvBuf;
		cfg_.tcp_window_scale = 0;
		cfg_.tcp_timestamps = 0;
		cfg_.tcp_msl_ms = kMslMs;
	}

	// A segment of the peer on the fixture's 4-tuple: seq P(rcv_), ack
	// O(snd_) when flags has ACK, window kPeerWin.
	Seg Peer(uint8_t flags = kAck) const
	{
		Seg s = Seg().sport(rport_).dport(lport_).seq(P(rcv_)).win(kPeerWin).flags(flags);

		if (flags & kAck)
			s.ack_(O(snd_));
		if (ts_ok_)
			s.ts(peer_ts_, our_ts_);
		return s;
	}

	uint64_t Count(enum dtcp_tcp_state s) const
	{
		uint64_t counts[DTCP_TCP_STATE_MAX];

		dtcp_tcp_state_counts(w_, counts);
		return counts[s];
	}

	// Our window field: the whole buffer, nothing unread.
	static constexpr uint16_t kWin = (uint16_t)kRcvBuf;

	// dtcp_tcp_shutdown() in ESTABLISHED: FIN-WAIT-1, <SEQ=O(snd_)><ACK=P(rcv_)><CTL=FIN,ACK>.
	void ShutdownSendsFin()
	{
		ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
		ExpectState(DTCP_TCP_FIN_WAIT_1);
		Poll();
		ExpectSeg(ExpectOneTx(), "FA", O(snd_), P(rcv_), kWin);
		ExpectNoEvents();
		snd_++;
		EXPECT_EQ(Info().snd_nxt, O(snd_));
		ASSERT_FALSE(HasFailure());
	}

	// OpenActive() from another local port (OpenActive() binds kOurPort),
	// after a first OpenActive() set ts_ok_, sack_ok_ and ws_ok_.
	void OpenActiveFrom(uint16_t lport)
	{
		ASSERT_NE(Connect(kPeerPort, lport), nullptr);
		Poll();
		ExpectSyn(ExpectOneTx());
		Seg sa = Seg().syn().ack().sport(rport_).dport(lport_).seq(P(0)).ack_(O(1));
		sa.win(kPeerWin).mss(kPeerMss);
		if (sack_ok_)
			sa.sack_ok();
		Inject(sa);
		snd_ = rcv_ = 1;
		ExpectSeg(ExpectOneTx(), "A", O(1), P(1), kWin);
		ExpectEvent(DTCP_EV_CONNECTED);
		ExpectState(DTCP_TCP_ESTABLISHED);
		ASSERT_FALSE(HasFailure());
		Mark();
	}

	// From ESTABLISHED to FIN-WAIT-2: our FIN out, the peer's ACK of it in.
	void ToFinWait2()
	{
		ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
		Inject(Peer());
		ExpectNoTx();
		ExpectNoEvents();
		ExpectState(DTCP_TCP_FIN_WAIT_2);
		ASSERT_FALSE(HasFailure());
	}

	// From FIN-WAIT-2 to TIME-WAIT: the peer's FIN in, our ACK of it out,
	// PEER_CLOSED then CLOSED(0) given to the application.
	void ToTimeWait()
	{
		ASSERT_NO_FATAL_FAILURE(ToFinWait2());
		uint64_t tw_before = Count(DTCP_TCP_TIME_WAIT);
		Inject(Peer(kFin | kAck));
		rcv_++;
		ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), kWin);
		std::vector<Event> evs = ExpectEvents({ DTCP_EV_PEER_CLOSED, DTCP_EV_CLOSED });
		if (evs.size() == 2) {
			EXPECT_EQ(evs[1].error, 0);
		}
		EXPECT_EQ(conn_, nullptr);
		EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), tw_before + 1);
		ASSERT_FALSE(HasFailure());
		Mark();
	}

	// From ESTABLISHED to CLOSE-WAIT: the peer's FIN in, ACKed, PEER_CLOSED.
	void ToCloseWait()
	{
		Inject(Peer(kFin | kAck));
		rcv_++;
		ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), kWin);
		ExpectEvent(DTCP_EV_PEER_CLOSED);
		ExpectState(DTCP_TCP_CLOSE_WAIT);
		ASSERT_FALSE(HasFailure());
	}
};

// --- RFC 9293 Figure 5, one transition at a time ------------------------------------------

TEST_F(TcpClose, Established_Shutdown_FinWait1WithFin)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_1), 1u);
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 0u);
	// The FIN takes O(1) and stays unacknowledged.
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.snd_una, O(1));
	EXPECT_EQ(i.snd_nxt, O(2));
	// A second shutdown has nothing more to say.
	EXPECT_EQ(dtcp_tcp_shutdown(w_, conn_), -ENOTCONN);
	Poll();
	ExpectNoTx();
}

TEST_F(TcpClose, FinWait1_AckOfFin_FinWait2)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	Mark();
	Inject(Peer());
	ExpectNoTx();
	ExpectNoEvents();
	ExpectState(DTCP_TCP_FIN_WAIT_2);
	EXPECT_EQ(Info().snd_una, O(2));
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 1u);
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "tcp_rx", 1 },
				    { "tcp_ack_rx", 1 } }));
	// Not closed, only shut down: nobody gives up on the peer's FIN.
	Advance(10 * 60 * 1000);
	ExpectState(DTCP_TCP_FIN_WAIT_2);
	ExpectNoTx();
	ExpectNoEvents();
}

TEST_F(TcpClose, FinWait1_AckBelowFin_StaysFinWait1)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	// An ACK that does not cover the FIN (a duplicate of O(1)) leaves us waiting.
	Inject(Peer().ack_(O(1)));
	ExpectNoTx();
	ExpectNoEvents();
	ExpectState(DTCP_TCP_FIN_WAIT_1);
}

TEST_F(TcpClose, FinWait2_Fin_AckedTimeWaitPeerClosedThenClosed)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToFinWait2());
	Mark();
	Inject(Peer(kFin | kAck));
	rcv_++;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	std::vector<Event> evs = ExpectEvents({ DTCP_EV_PEER_CLOSED, DTCP_EV_CLOSED });
	ASSERT_EQ(evs.size(), 2u);
	EXPECT_EQ(evs[1].error, 0);
	EXPECT_EQ(conn_, nullptr);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 0u);
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_fin_rx"], 1u);
	EXPECT_EQ(d["tcp_closed_orderly"], 1u);
	EXPECT_EQ(d["tcp_timewait_enter"], 1u);
	EXPECT_EQ(d["tcp_tx_ack_only"], 1u);
	EXPECT_EQ(d["tcp_timewait_full"], 0u);
}

TEST_F(TcpClose, FinWait1_FinBeforeAck_ClosingThenAck_TimeWait)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	// The peer's FIN acknowledges O(1) only: ours crossed it.
	Inject(Peer(kFin | kAck).ack_(O(1)));
	rcv_++;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	ExpectEvent(DTCP_EV_PEER_CLOSED);
	ExpectState(DTCP_TCP_CLOSING);
	EXPECT_EQ(Count(DTCP_TCP_CLOSING), 1u);
	Mark();
	Inject(Peer());
	ExpectNoTx();
	Event e = ExpectEvent(DTCP_EV_CLOSED);
	EXPECT_EQ(e.error, 0);
	EXPECT_EQ(conn_, nullptr);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	EXPECT_EQ(Count(DTCP_TCP_CLOSING), 0u);
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_timewait_enter"], 1u);
	EXPECT_EQ(d["tcp_ack_rx"], 1u);
}

// tcp_closed_orderly counts "connections ended by FIN both ways": the end
// through CLOSING is one, as the end through FIN-WAIT-2 and LAST-ACK are.
TEST_F(TcpClose, Closing_AckOfFin_CountedClosedOrderly)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	Inject(Peer(kFin | kAck).ack_(O(1)));
	rcv_++;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	ExpectEvent(DTCP_EV_PEER_CLOSED);
	uint64_t before = Ctr(DTCP_CTR_tcp_closed_orderly);
	Inject(Peer());
	ExpectEvent(DTCP_EV_CLOSED);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_closed_orderly), before + 1) << ToString(Moved());
}

TEST_F(TcpClose, FinWait1_FinAckingOurFin_StraightToTimeWait)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	Mark();
	Inject(Peer(kFin | kAck));   // ack O(2): our FIN too
	rcv_++;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	std::vector<Event> evs = ExpectEvents({ DTCP_EV_PEER_CLOSED, DTCP_EV_CLOSED });
	ASSERT_EQ(evs.size(), 2u);
	EXPECT_EQ(evs[1].error, 0);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	EXPECT_EQ(Count(DTCP_TCP_CLOSING), 0u);
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 0u);
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_closed_orderly"], 1u);
	EXPECT_EQ(d["tcp_timewait_enter"], 1u);
}

TEST_F(TcpClose, Established_Fin_CloseWaitAcked)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToCloseWait());
	EXPECT_EQ(Info().rcv_nxt, P(2));
	EXPECT_EQ(Count(DTCP_TCP_CLOSE_WAIT), 1u);
	// CLOSE-WAIT waits for the application, however long.
	Advance(10 * 60 * 1000);
	ExpectState(DTCP_TCP_CLOSE_WAIT);
	ExpectNoTx();
	ExpectNoEvents();
}

TEST_F(TcpClose, CloseWait_Shutdown_LastAckThenAck_Closed)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToCloseWait());
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	ExpectState(DTCP_TCP_LAST_ACK);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(2), kWin);
	snd_++;
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_LAST_ACK), 1u);
	Mark();
	Inject(Peer());
	ExpectNoTx();
	Event e = ExpectEvent(DTCP_EV_CLOSED);
	EXPECT_EQ(e.error, 0);
	EXPECT_EQ(conn_, nullptr);
	// LAST-ACK goes to CLOSED: no TIME-WAIT on this side.
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
	EXPECT_EQ(Count(DTCP_TCP_LAST_ACK), 0u);
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_closed_orderly"], 1u);
	EXPECT_EQ(d["tcp_timewait_enter"], 0u);
	// The 4-tuple is gone: a segment to it gets the closed-port RST.
	Inject(Peer());
	ExpectRst(ExpectOneTx(), O(2));
}

TEST_F(TcpClose, TimeWait_After2Msl_Closed)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	Advance(2 * kMslMs + 1);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
	EXPECT_EQ(Moved(), (Deltas{ { "tcp_timewait_expired", 1 } }));
	ExpectNoTx();
	ExpectNoEvents();
}

// --- Simultaneous close (RFC 9293 Figure 13) ------------------------------------------------

TEST_F(TcpClose, SimultaneousClose_BothFinsCross_ClosingThenTimeWait)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	// Both send FIN at once: ours <SEQ=O(1)><ACK=P(1)><CTL=FIN,ACK> ...
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(1), kWin);
	// ... theirs <SEQ=P(1)><ACK=O(1)><CTL=FIN,ACK>, not acknowledging ours.
	Inject(Peer(kFin | kAck));
	snd_ = 2;
	rcv_ = 2;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	ExpectEvent(DTCP_EV_PEER_CLOSED);
	ExpectState(DTCP_TCP_CLOSING);
	// Their ACK of our FIN: <SEQ=P(2)><ACK=O(2)><CTL=ACK>.
	Inject(Peer());
	ExpectNoTx();
	Event e = ExpectEvent(DTCP_EV_CLOSED);
	EXPECT_EQ(e.error, 0);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	// Both sides wait 2 MSL; ours ends on time.
	Advance(2 * kMslMs + 1);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
	ExpectNoTx();
}

TEST_F(TcpClose, Closing_FinRetransmitted_AckedAgainStaysClosing)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	Inject(Peer(kFin | kAck).ack_(O(1)));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	ExpectEvent(DTCP_EV_PEER_CLOSED);
	// The peer did not get our ACK and sends its FIN again: an old duplicate.
	Inject(Peer(kFin | kAck).ack_(O(1)));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	ExpectNoEvents();
	ExpectState(DTCP_TCP_CLOSING);
}

// --- Half-close (RFC 9293 §3.6: CLOSE means "I have no more to send") ------------------------

TEST_F(TcpClose, FinWait1AndFinWait2_Data_DeliveredAndAcked)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	// Data that does not acknowledge our FIN yet: FIN-WAIT-1 still receives.
	Inject(Peer().ack_(O(1)).data("hello"));
	rcv_ += 5;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(6), kWin);
	Event e = ExpectEvent(DTCP_EV_DATA);
	EXPECT_EQ(e.data, Bytes({ 'h', 'e', 'l', 'l', 'o' }));
	ExpectState(DTCP_TCP_FIN_WAIT_1);
	// Then the ACK of our FIN, with more data: FIN-WAIT-2 receives too.
	Mark();
	Inject(Peer().data("world"));
	rcv_ += 5;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(11), kWin);
	e = ExpectEvent(DTCP_EV_DATA);
	EXPECT_EQ(e.data, Bytes({ 'w', 'o', 'r', 'l', 'd' }));
	ExpectState(DTCP_TCP_FIN_WAIT_2);
	EXPECT_EQ(Info().rcv_nxt, P(11));
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_data_rx"], 1u);
	EXPECT_EQ(d["tcp_tx_ack_only"], 1u);
	// And the FIN after the data ends it.
	Inject(Peer(kFin | kAck));
	rcv_++;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(12), kWin);
	ExpectEvents({ DTCP_EV_PEER_CLOSED, DTCP_EV_CLOSED });
	EXPECT_EQ(ReceivedBytes(), Bytes({ 'h', 'e', 'l', 'l', 'o', 'w', 'o', 'r', 'l', 'd' }));
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
}

TEST_F(TcpClose, CloseWait_Send_DataGoesOutAckedThenFin)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToCloseWait());
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "reply", 5), 5);
	Poll();
	TcpSeg s = ExpectSeg(ExpectOneTx(), "PA", O(1), P(2), kWin);
	EXPECT_EQ(s.payload, Bytes({ 'r', 'e', 'p', 'l', 'y' }));
	snd_ += 5;
	Inject(Peer());
	ExpectNoTx();
	ExpectNoEvents();
	ExpectState(DTCP_TCP_CLOSE_WAIT);
	EXPECT_EQ(Info().snd_una, O(6));
	EXPECT_EQ(Info().send_queued, 0u);
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	ExpectState(DTCP_TCP_LAST_ACK);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(6), P(2), kWin);
	snd_++;
	// After shutdown nothing more may be sent.
	EXPECT_EQ(dtcp_tcp_send_copy(w_, conn_, "x", 1), -EPIPE);
	Inject(Peer());
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, 0);
}

TEST_F(TcpClose, Established_ShutdownAfterSend_FinPiggybackedAtEndOfData)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "abc", 3), 3);
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	EXPECT_EQ(dtcp_tcp_send_copy(w_, conn_, "d", 1), -EPIPE);
	Poll();
	// One output, both ready: the FIN rides on the data, its SEQ O(4).
	TcpSeg s = ExpectSeg(ExpectOneTx(), "FPA", O(1), P(1), kWin);
	EXPECT_EQ(s.payload, Bytes({ 'a', 'b', 'c' }));
	EXPECT_EQ(Info().snd_nxt, O(5));
	// The data acknowledged, not the FIN: still FIN-WAIT-1.
	Inject(Peer().ack_(O(4)));
	ExpectNoTx();
	ExpectState(DTCP_TCP_FIN_WAIT_1);
	Inject(Peer().ack_(O(5)));
	ExpectNoTx();
	ExpectState(DTCP_TCP_FIN_WAIT_2);
	ExpectNoEvents();
}

TEST_F(TcpClose, Established_ShutdownAfterSeveralSegments_FinOnLastOnly)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	Bytes data = Pattern(3000);
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), (uint32_t)data.size()), 3000);
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 3u);
	uint16_t mss = Info().snd_mss;
	ASSERT_EQ(mss, kPeerMss);
	TcpSeg a = ExpectSeg(tx[0], "A", O(1), P(1), kWin);
	TcpSeg b = ExpectSeg(tx[1], "A", O(1 + mss), P(1), kWin);
	TcpSeg c = ExpectSeg(tx[2], "FPA", O(1 + 2 * mss), P(1), kWin);
	Bytes all = a.payload;
	all.insert(all.end(), b.payload.begin(), b.payload.end());
	all.insert(all.end(), c.payload.begin(), c.payload.end());
	EXPECT_EQ(all, data);
	EXPECT_EQ(Info().snd_nxt, O(3002)) << "the FIN takes O(3001)";
	Inject(Peer().ack_(O(3002)));
	ExpectNoTx();
	ExpectState(DTCP_TCP_FIN_WAIT_2);
}

TEST_F(TcpClose, FinWait1_FinLost_RetransmittedAtSameSeq)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	// No ACK: the FIN goes again on the retransmission timer, same SEQ.
	Advance(Info().rto_ms + 1);
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(1), kWin);
	ExpectState(DTCP_TCP_FIN_WAIT_1);
	Inject(Peer());
	ExpectNoTx();
	ExpectState(DTCP_TCP_FIN_WAIT_2);
}

// --- Data and FIN together ---------------------------------------------------------------

TEST_F(TcpClose, Established_DataWithFin_DataThenPeerClosed)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	Mark();
	Inject(Peer(kFin | kPsh | kAck).data("bye"));
	rcv_ += 4;
	ExpectSeg(ExpectOneTx(), "A", O(1), P(5), kWin);
	std::vector<Event> evs = ExpectEvents({ DTCP_EV_DATA, DTCP_EV_PEER_CLOSED });
	ASSERT_EQ(evs.size(), 2u);
	EXPECT_EQ(evs[0].data, Bytes({ 'b', 'y', 'e' }));
	ExpectState(DTCP_TCP_CLOSE_WAIT);
	EXPECT_EQ(Info().rcv_nxt, P(5));
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_data_rx"], 1u);
	EXPECT_EQ(d["tcp_fin_rx"], 0u);
}

TEST_F(TcpClose, FinWait1_DataThenFinAckInOneBurst_DataBeforeClosed)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	InjectOnly(Frame(Peer().ack_(O(1)).data("last")));
	InjectOnly(Frame(Peer().seq(P(5)).flags(kFin | kAck)));
	Poll();
	rcv_ += 5;
	std::vector<Bytes> tx = TakeTx();
	ASSERT_GE(tx.size(), 1u);
	// Whatever ACK the data earned, the last segment we send covers the FIN.
	// It goes out within the burst, before the DATA event hands the 4 bytes
	// to the application, so the window is 4 short (its right edge P(4098)
	// still beyond the P(4097) offered before: no shrinking).
	ExpectSeg(tx.back(), "A", O(2), P(6), kWin - 4);
	EXPECT_EQ(tx.size(), 1u) << "one ACK covers the whole burst";
	std::vector<Event> evs = ExpectEvents({ DTCP_EV_DATA, DTCP_EV_PEER_CLOSED, DTCP_EV_CLOSED });
	ASSERT_EQ(evs.size(), 3u);
	EXPECT_EQ(evs[0].data, Bytes({ 'l', 'a', 's', 't' }));
	EXPECT_EQ(evs[2].error, 0);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
}

TEST_F(TcpClose, CloseWait_DataFinThenShutdownAckInOneBurst_DataBeforeClosed)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	// The peer's data and FIN, unread by the application until the poll.
	InjectOnly(Frame(Peer(kFin | kPsh | kAck).data("tail")));
	Poll();
	rcv_ += 5;
	ExpectSeg(ExpectOneTx(), "A", O(1), P(6), kWin);
	ExpectEvents({ DTCP_EV_DATA, DTCP_EV_PEER_CLOSED });
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(6), kWin);
	snd_++;
	// In LAST-ACK: the peer's data and FIN again (an old duplicate), then
	// the ACK of our FIN, in one burst: nothing delivered twice, CLOSED once.
	InjectOnly(Frame(Peer(kFin | kPsh | kAck).seq(P(1)).data("tail")));
	InjectOnly(Frame(Peer()));
	Poll();
	std::vector<Bytes> tx = TakeTx();
	for (const Bytes &f : tx)
		ExpectSeg(f, "A", O(2), P(6), kWin);
	EXPECT_LE(tx.size(), 1u);
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, 0);
	EXPECT_EQ(ReceivedBytes(), Bytes({ 't', 'a', 'i', 'l' }));
}

// --- TIME-WAIT (RFC 9293 §3.6.1, RFC 1337, RFC 6191) ------------------------------------------

TEST_F(TcpClose, TimeWait_LastsTwoMsl)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	Advance(2 * kMslMs - 1);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u) << "1 ms before 2 MSL";
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timewait_expired), 0u);
	// While it lasts, a segment of the old connection is answered from the record.
	Inject(Peer().data("z"));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	Advance(2);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u) << "1 ms after 2 MSL";
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timewait_expired), 1u);
	ExpectNoTx();
	ExpectNoEvents();
	// The 4-tuple is free: no listener answers an ACK to it with RST.
	Inject(Peer());
	ExpectRst(ExpectOneTx(), O(2));
}

TEST_F(TcpClose, TimeWait_FinRetransmitted_AckedAndTwoMslRestart)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	Advance(1500);
	// The peer lost our ACK and sends its FIN again: <SEQ=P(1)><ACK=O(2)><CTL=FIN,ACK>.
	Mark();
	Inject(Peer(kFin | kAck).seq(P(1)));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "tcp_rx", 1 },
				    { "tcp_tw_fin_reack", 1 }, { "tx_frames", 1 }, { "ip_tx", 1 },
				    { "tcp_tx", 1 }, { "tcp_tx_ack_only", 1 } }));
	ExpectNoEvents();
	// The first 2 MSL would end at 2000 ms: the record outlives them.
	Advance(2 * kMslMs - 1500 + 1);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u) << "2 MSL restarted at 1500 ms";
	// Then lasts 2 MSL from the FIN: ends at 1500 + 2000.
	Advance(2 * kMslMs - (2 * kMslMs - 1500 + 1) - 2);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u) << "1 ms before 2 MSL after the FIN";
	Advance(2);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u) << "1 ms after";
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timewait_expired), 1u);
	ExpectNoTx();
}

TEST_F(TcpClose, TimeWait_Rst_IgnoredRfc1337)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	// At RCV.NXT, with and without ACK: TIME-WAIT assassination is refused.
	EXPECT_TRUE(Dropped(Frame(Peer(kRst)),
			    { { "ip_rx", 1 }, { "tcp_rx", 1 }, { "tcp_tw_rst", 1 } }));
	EXPECT_TRUE(Dropped(Frame(Peer(kRst | kAck)),
			    { { "ip_rx", 1 }, { "tcp_rx", 1 }, { "tcp_tw_rst", 1 } }));
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	ExpectNoEvents();
	// Still there: an old duplicate gets the record's ACK, and 2 MSL ends it on time.
	Inject(Peer().seq(P(1)).data("a"));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	Advance(2 * kMslMs + 1);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
}

TEST_F(TcpClose, TimeWait_OldDuplicateData_Acked)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	// Some data first, so an old duplicate has somewhere to come from.
	Inject(Peer().data("abcd"));
	rcv_ += 4;
	ExpectSeg(ExpectOneTx(), "A", O(1), P(5), kWin);
	ExpectEvent(DTCP_EV_DATA);
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	Mark();
	Inject(Peer().seq(P(1)).data("abcd"));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(6), kWin);
	ExpectNoEvents();
	EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "tcp_rx", 1 },
				    { "tcp_tw_ack", 1 }, { "tx_frames", 1 }, { "ip_tx", 1 },
				    { "tcp_tx", 1 }, { "tcp_tx_ack_only", 1 } }));
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	// A duplicate ACK at RCV.NXT needs no answer.
	EXPECT_TRUE(Dropped(Frame(Peer()), { { "ip_rx", 1 }, { "tcp_rx", 1 }, { "tcp_tw_drop", 1 } }));
}

// RFC 6191 §2 without timestamps (RFC 1122 §4.2.2.13): a SYN whose
// sequence number is above the old connection's RCV.NXT ends TIME-WAIT, and
// the new connection's ISS must be above the old SND.NXT.
TEST_F(TcpClose, TimeWait_SynHigherSeq_ReusedIssAboveOldSndNxt)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	ASSERT_NE(listener_, nullptr);
	const uint32_t old_snd_nxt = O(2);
	const uint32_t new_iss = P(100000);
	Mark();
	Inject(Seg().syn().seq(new_iss).win(kPeerWin).mss(kPeerMss));
	TcpSeg sa = ParseTcp(ExpectOneTx());
	ASSERT_TRUE(sa.ok) << ToString(sa);
	EXPECT_EQ(FlagsString(sa.flags), "SA");
	EXPECT_EQ(sa.ack, new_iss + 1);
	// The fixed ISN source answers O(0), below O(2): the engine must lift it.
	EXPECT_GT((int32_t)(sa.seq - old_snd_nxt), 0)
		<< "new ISS " << std::hex << sa.seq << " not above old SND.NXT " << old_snd_nxt;
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 1u);
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_tw_reuse"], 1u);
	EXPECT_EQ(d["tcp_timewait_expired"], 1u);
	EXPECT_EQ(d["tcp_passive_open"], 1u);
	// The handshake completes into a new connection on the same 4-tuple.
	Inject(Seg().ack().seq(new_iss + 1).ack_(sa.seq + 1).win(kPeerWin));
	ExpectNoTx();
	ExpectEvent(DTCP_EV_ACCEPTABLE);
	ASSERT_EQ(accepted_.size(), 1u);
	struct dtcp_conn_info i = Info(accepted_.back());
	EXPECT_EQ(i.state, DTCP_TCP_ESTABLISHED);
	EXPECT_EQ(i.iss, sa.seq);
	EXPECT_EQ(i.irs, new_iss);
	EXPECT_EQ(i.rport, kPeerPort);
}

// RFC 6191 §2 with timestamps: a newer TSval makes the SYN acceptable even
// with a lower sequence number.
TEST_F(TcpClose, TimeWait_SynNewerTsval_ReusedEvenWithLowerSeq)
{
	cfg_.tcp_timestamps = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_TRUE(ts_ok_);
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	const uint32_t old_snd_nxt = O(2);
	Mark();
	Inject(Seg().syn().seq(P(-1000)).win(kPeerWin).mss(kPeerMss).sack_ok().ts(peer_ts_ + 1, 0));
	TcpSeg sa = ParseTcp(ExpectOneTx());
	ASSERT_TRUE(sa.ok) << ToString(sa);
	EXPECT_EQ(FlagsString(sa.flags), "SA");
	EXPECT_EQ(sa.ack, P(-999));
	EXPECT_TRUE(sa.has_ts);
	EXPECT_EQ(sa.tsecr, peer_ts_ + 1);
	EXPECT_GT((int32_t)(sa.seq - old_snd_nxt), 0);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_tw_reuse), 1u);
}

// The same with an older TSval and a higher sequence number: timestamps
// decide (RFC 6191 §2), so the SYN is not newer; PAWS answers with an ACK.
TEST_F(TcpClose, TimeWait_SynOlderTsval_AckedTimeWaitStays)
{
	cfg_.tcp_timestamps = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	Inject(Seg().syn().seq(P(100000)).win(kPeerWin).mss(kPeerMss).ts(peer_ts_ - 1, 0));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 0u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_tw_reuse), 0u);
	ExpectNoEvents();
}

// A SYN not provably newer (sequence number at or below RCV.NXT, no
// timestamps) does not end TIME-WAIT. RFC 6191 §2 leaves it to RFC 9293:
// below the window it is unacceptable (§3.10.7.4 first: send an ACK); at
// RCV.NXT it is in the window and a SYN (fourth: challenge ACK, RFC 5961
// §4). Either way an ACK <SEQ=SND.NXT><ACK=RCV.NXT>; docs/tcp.md: "anything
// else is ACKed".
TEST_F(TcpClose, TimeWait_SynNotNewer_AckedTimeWaitStays)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	for (int64_t seq : { 2, 1, 0, -5000 }) {
		SCOPED_TRACE("SYN at P(" + std::to_string(seq) + ")");
		Inject(Seg().syn().seq(P(seq)).win(kPeerWin).mss(kPeerMss));
		std::vector<Bytes> tx = TakeTx();
		EXPECT_EQ(tx.size(), 1u) << "an ACK";
		for (const Bytes &f : tx)
			ExpectSeg(f, "A", O(2), P(2), kWin);
		EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
		EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 0u);
	}
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_tw_reuse), 0u);
	ExpectNoEvents();
}

// Without a listener a newer SYN has nowhere to go: TIME-WAIT stays and the
// SYN, in the window, gets the ACK (RFC 9293 §3.10.7.4 fourth, RFC 5961 §4).
TEST_F(TcpClose, TimeWait_NewerSynNoListener_AckedTimeWaitStays)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	Inject(Seg().syn().seq(P(100)).win(kPeerWin).mss(kPeerMss));
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 1u) << "an ACK";
	ExpectSeg(tx[0], "A", O(2), P(2), kWin);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_tw_reuse), 0u);
}

TEST_F(TcpClose, TimeWait_TableFull_SecondClosesWithoutRecord)
{
	cfg_.tcp_timewait_max = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timewait_full), 0u);
	// A second connection from another port, closed the same way.
	ASSERT_NO_FATAL_FAILURE(OpenPassive(PeerSyn().sport(kPeerPort + 1)));
	ASSERT_NO_FATAL_FAILURE(ToFinWait2());
	Mark();
	Inject(Peer(kFin | kAck));
	rcv_++;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	std::vector<Event> evs = ExpectEvents({ DTCP_EV_PEER_CLOSED, DTCP_EV_CLOSED });
	ASSERT_EQ(evs.size(), 2u);
	EXPECT_EQ(evs[1].error, 0);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u) << "the first record only";
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_timewait_full"], 1u);
	EXPECT_EQ(d["tcp_closed_orderly"], 1u);
	// No record for the second: its retransmitted FIN (which acknowledges
	// O(2)) meets the listener, which answers an ACK with <SEQ=SEG.ACK><CTL=RST>.
	Inject(Peer(kFin | kAck).seq(P(1)));
	ExpectRst(ExpectOneTx(), O(2));
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_listen_ack_rst), 1u);
	// The first still answers from its record.
	rport_ = kPeerPort;
	Inject(Peer(kFin | kAck).seq(P(1)));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
}

TEST_F(TcpClose, TimeWait_TableFullNoListener_SegmentGetsClosedPortRst)
{
	cfg_.tcp_timewait_max = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	// A second active open from another local port.
	ASSERT_NO_FATAL_FAILURE(OpenActiveFrom(kOurPort + 1));
	ASSERT_NO_FATAL_FAILURE(ToFinWait2());
	Mark();
	Inject(Peer(kFin | kAck));
	rcv_++;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	ExpectEvents({ DTCP_EV_PEER_CLOSED, DTCP_EV_CLOSED });
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	EXPECT_EQ(Moved()["tcp_timewait_full"], 1u);
	// The FIN again: no TCB, no record, no listener: the closed-port RST.
	Inject(Peer(kFin | kAck).seq(P(1)));
	ExpectRst(ExpectOneTx(), O(2));
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_closed_rst_tx), 1u);
}

// --- ABORT (RFC 9293 §3.10.5) and resets -----------------------------------------------------

TEST_F(TcpClose, Established_Abort_RstAtSndNxtNoEvents)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	// Data in flight: SND.NXT is past it, SND.UNA is not.
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "abc", 3), 3);
	Poll();
	ExpectSeg(ExpectOneTx(), "PA", O(1), P(1), kWin);
	Mark();
	dtcp_tcp_abort(w_, conn_);
	conn_ = nullptr;   // the handle is gone, no CLOSED event says so
	Poll();
	ExpectRst(ExpectOneTx(), O(4));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 0u);
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_aborted"], 1u);
	EXPECT_EQ(d["tcp_tx_rst"], 1u);
	EXPECT_EQ(d["tcp_events"], 0u);
	// Nothing left: no retransmission, no TIME-WAIT, and the peer's next
	// segment meets the listener, which answers an ACK with <SEQ=SEG.ACK><CTL=RST>.
	Advance(10000);
	ExpectNoTx();
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
	Inject(Peer().ack_(O(4)).data("x"));
	ExpectRst(ExpectOneTx(), O(4));
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_listen_ack_rst), 1u);
	ExpectNoEvents();
}

TEST_F(TcpClose, Established_RstAtRcvNxt_ClosedEconnreset)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	Mark();
	Inject(Peer(kRst));
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -ECONNRESET);
	EXPECT_EQ(conn_, nullptr);
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 0u);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_rst_accepted"], 1u);
	EXPECT_EQ(d["tcp_reset_rx"], 1u);
	EXPECT_EQ(d["tcp_timewait_enter"], 0u);
}

TEST_F(TcpClose, FinWait2_RstAtRcvNxt_ClosedEconnreset)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToFinWait2());
	Inject(Peer(kRst));
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -ECONNRESET);
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 0u);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
}

TEST_F(TcpClose, Established_Close_FinThenFinishesAloneWithoutEvents)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	dtcp_tcp_close(w_, conn_);
	struct dtcp_conn *c = conn_;
	conn_ = nullptr;
	ExpectState(DTCP_TCP_FIN_WAIT_1, c);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(1), kWin);
	snd_++;
	Inject(Peer());
	ExpectNoTx();
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 1u);
	Mark();
	Inject(Peer(kFin | kAck));
	rcv_++;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 0u);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_closed_orderly"], 1u);
	EXPECT_EQ(d["tcp_events"], 0u);
	Advance(2 * kMslMs + 1);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
	ExpectNoEvents();
}

TEST_F(TcpClose, CloseWait_Close_LastAckFinishesAloneWithoutEvents)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToCloseWait());
	dtcp_tcp_close(w_, conn_);
	conn_ = nullptr;
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(2), kWin);
	snd_++;
	EXPECT_EQ(Count(DTCP_TCP_LAST_ACK), 1u);
	Inject(Peer());
	ExpectNoTx();
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_LAST_ACK), 0u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_closed_orderly), 1u);
}

// RFC 1122 §4.2.2.13 (and RFC 9293 §3.10.4): data arriving for a
// connection the application has closed cannot be delivered: RST.
TEST_F(TcpClose, FinWait1Closed_DataArrives_RstConnectionGone)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	dtcp_tcp_close(w_, conn_);
	conn_ = nullptr;
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(1), kWin);
	Mark();
	// Data that does not acknowledge our FIN: still FIN-WAIT-1.
	Inject(Peer().ack_(O(1)).data("late"));
	ExpectRst(ExpectOneTx(), O(2));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_1), 0u);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_data_after_close"], 1u);
	EXPECT_EQ(d["tcp_aborted"], 1u);
	EXPECT_EQ(d["tcp_tx_rst"], 1u);
	EXPECT_EQ(d["tcp_data_rx"], 0u);
	// Gone: the next segment gets the closed-port RST, and no FIN is retransmitted.
	Inject(Peer().ack_(O(2)).seq(P(5)));
	ExpectRst(ExpectOneTx(), O(2));
	Advance(10000);
	ExpectNoTx();
}

TEST_F(TcpClose, FinWait2Closed_DataArrives_RstConnectionGone)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToFinWait2());
	dtcp_tcp_close(w_, conn_);
	conn_ = nullptr;
	Poll();
	ExpectNoTx();
	Mark();
	Inject(Peer().data("late"));
	ExpectRst(ExpectOneTx(), O(2));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 0u);
	EXPECT_EQ(Moved()["tcp_data_after_close"], 1u);
}

TEST_F(TcpClose, Established_CloseWithUnreadData_Rst)
{
	Start();
	auto_accept_ = false;
	Listen();
	// Data arrives with the handshake's ACK, before the application accepts.
	Inject(PeerSyn());
	TcpSeg sa = ParseTcp(ExpectOneTx());
	ASSERT_EQ(FlagsString(sa.flags), "SA");
	snd_ = rcv_ = 1;
	Inject(Peer().data("unread"));
	ExpectEvent(DTCP_EV_ACCEPTABLE);
	TakeTx();
	struct dtcp_conn *c = AcceptOne();
	ASSERT_NE(c, nullptr);
	// Closed with six bytes the application never read: RST, not FIN.
	Mark();
	dtcp_tcp_close(w_, c);
	Poll();
	ExpectRst(ExpectOneTx(), O(1));
	// The handle is closed: the data it never read is not given to it now.
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 0u);
	EXPECT_EQ(Moved()["tcp_aborted"], 1u);
	Advance(1000);
	ExpectNoEvents();
	ExpectNoTx();
}

TEST_F(TcpClose, FinWait2Closed_FinTimeout_GivenUp)
{
	cfg_.tcp_fin_timeout_ms = 5000;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	dtcp_tcp_close(w_, conn_);
	conn_ = nullptr;
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(1), kWin);
	snd_++;
	Inject(Peer());
	ExpectNoTx();
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 1u);
	Advance(5000 - 1);
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 1u) << "1 ms before fin_timeout_ms";
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timeout_fin_wait2), 0u);
	Advance(2);
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 0u) << "1 ms after";
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timeout_fin_wait2), 1u);
	ExpectNoTx();
	ExpectNoEvents();
}

TEST_F(TcpClose, FinWait2ShutdownThenClose_FinTimeoutFromClose)
{
	cfg_.tcp_fin_timeout_ms = 5000;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToFinWait2());
	Advance(3000);
	dtcp_tcp_close(w_, conn_);
	conn_ = nullptr;
	Advance(5000 - 1);
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 1u) << "counted from the close";
	Advance(2);
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 0u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timeout_fin_wait2), 1u);
	ExpectNoTx();
	ExpectNoEvents();
}

TEST_F(TcpClose, FinWait2ShutdownOnly_FinTimeout_KeepsWaiting)
{
	cfg_.tcp_fin_timeout_ms = 5000;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToFinWait2());
	Advance(5000 + 1);
	Advance(60000);
	ExpectState(DTCP_TCP_FIN_WAIT_2);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timeout_fin_wait2), 0u);
	ExpectNoTx();
	ExpectNoEvents();
	// And still takes the peer's FIN.
	Inject(Peer(kFin | kAck));
	rcv_++;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	ExpectEvents({ DTCP_EV_PEER_CLOSED, DTCP_EV_CLOSED });
}

// --- CLOSE on a listener (RFC 9293 §3.10.4, LISTEN STATE) ---------------------------------

TEST_F(TcpClose, Listen_Close_AcceptQueueResetSynsGetRst)
{
	auto_accept_ = false;
	Start();
	Listen();
	// One connection established and waiting in the accept queue.
	Inject(PeerSyn());
	TcpSeg sa = ParseTcp(ExpectOneTx());
	ASSERT_EQ(FlagsString(sa.flags), "SA");
	snd_ = rcv_ = 1;
	Inject(Peer());
	ExpectNoTx();
	ExpectEvent(DTCP_EV_ACCEPTABLE);
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 1u);
	Mark();
	dtcp_tcp_close(w_, listener_);
	listener_ = nullptr;
	Poll();
	// The waiting connection: <SEQ=SND.NXT><CTL=RST>.
	ExpectRst(ExpectOneTx(), O(1));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 0u);
	EXPECT_EQ(Count(DTCP_TCP_LISTEN), 0u);
	Deltas d = Moved();
	EXPECT_EQ(d["tcp_aborted"], 1u);
	EXPECT_EQ(d["tcp_tx_rst"], 1u);
	// A new SYN meets a closed port: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>.
	Mark();
	Inject(PeerSyn().seq(P(5000)));
	ExpectRstAck(ExpectOneTx(), 0, P(5001));
	EXPECT_EQ(Moved()["tcp_closed_rst_tx"], 1u);
	// So does the reset connection's next segment.
	Inject(Peer().data("x"));
	ExpectRst(ExpectOneTx(), O(1));
	ExpectNoEvents();
}

TEST_F(TcpClose, Listen_Close_SynReceivedResetToo)
{
	auto_accept_ = false;
	Start();
	Listen();
	Inject(PeerSyn());
	TcpSeg sa = ParseTcp(ExpectOneTx());
	ASSERT_EQ(FlagsString(sa.flags), "SA");
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 1u);
	dtcp_tcp_close(w_, listener_);
	listener_ = nullptr;
	Poll();
	// Our SYN-ACK took O(0): SND.NXT is O(1).
	ExpectRst(ExpectOneTx(), O(1));
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 0u);
	// No SYN-ACK retransmission follows.
	Advance(10000);
	ExpectNoTx();
	ExpectNoEvents();
}

TEST_F(TcpClose, Listen_CloseAfterAccept_AcceptedConnectionLives)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	dtcp_tcp_close(w_, listener_);
	listener_ = nullptr;
	Poll();
	ExpectNoTx();
	ExpectState(DTCP_TCP_ESTABLISHED);
	// It still closes in order.
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
}

// --- More of each state -------------------------------------------------------------------

TEST_F(TcpClose, CloseWait_FinRetransmitted_AckedNoSecondPeerClosed)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToCloseWait());
	Inject(Peer(kFin | kAck).seq(P(1)));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(2), kWin);
	ExpectNoEvents();
	ExpectState(DTCP_TCP_CLOSE_WAIT);
	EXPECT_EQ(Info().rcv_nxt, P(2));
}

TEST_F(TcpClose, CloseWait_DataBeyondFin_NotDelivered)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToCloseWait());
	// §3.10.7.4 seventh, CLOSE-WAIT: "Ignore the segment text."
	Inject(Peer().data("after"));
	TakeTx();
	ExpectNoEvents();
	ExpectState(DTCP_TCP_CLOSE_WAIT);
	EXPECT_EQ(Info().rcv_nxt, P(2));
	EXPECT_EQ(ReceivedBytes(), Bytes());
}

TEST_F(TcpClose, FinWait2_FinBeyondRcvNxt_DupAckStays)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToFinWait2());
	// A FIN after a hole (bytes P(1)..P(4) missing): not taken yet.
	Inject(Peer(kFin | kAck).seq(P(5)));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(1), kWin);
	ExpectNoEvents();
	ExpectState(DTCP_TCP_FIN_WAIT_2);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
}

TEST_F(TcpClose, FinWait2_DataWithFin_DataPeerClosedClosed)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToFinWait2());
	Inject(Peer(kFin | kPsh | kAck).data("end"));
	rcv_ += 4;
	// The ACK goes before the application takes the 3 bytes: window 4093.
	ExpectSeg(ExpectOneTx(), "A", O(2), P(5), kWin - 3);
	std::vector<Event> evs = ExpectEvents({ DTCP_EV_DATA, DTCP_EV_PEER_CLOSED, DTCP_EV_CLOSED });
	ASSERT_EQ(evs.size(), 3u);
	EXPECT_EQ(evs[0].data, Bytes({ 'e', 'n', 'd' }));
	EXPECT_EQ(evs[2].error, 0);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
}

TEST_F(TcpClose, LastAck_AckBelowFin_StaysLastAck)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToCloseWait());
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(2), kWin);
	Inject(Peer());   // ack O(1): not our FIN
	ExpectNoTx();
	ExpectNoEvents();
	ExpectState(DTCP_TCP_LAST_ACK);
}

TEST_F(TcpClose, LastAck_FinLost_RetransmittedThenClosed)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToCloseWait());
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(2), kWin);
	Advance(Info().rto_ms + 1);
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(2), kWin);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_rexmit), 1u);
	snd_++;
	Inject(Peer());
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, 0);
}

TEST_F(TcpClose, LastAck_Rst_ClosedEconnreset)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToCloseWait());
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(2), kWin);
	Inject(Peer(kRst));
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -ECONNRESET);
	EXPECT_EQ(Count(DTCP_TCP_LAST_ACK), 0u);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
}

TEST_F(TcpClose, Closing_Rst_ClosedNoTimeWait)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	Inject(Peer(kFin | kAck).ack_(O(1)));
	rcv_++;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	ExpectEvent(DTCP_EV_PEER_CLOSED);
	Inject(Peer(kRst));
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -ECONNRESET);
	EXPECT_EQ(Count(DTCP_TCP_CLOSING), 0u);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
}

TEST_F(TcpClose, Closing_FinLost_RetransmittedThenTimeWait)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	Inject(Peer(kFin | kAck).ack_(O(1)));
	rcv_++;
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	ExpectEvent(DTCP_EV_PEER_CLOSED);
	// Our FIN is still unacknowledged: it goes again, now acknowledging theirs.
	Advance(Info().rto_ms + 1);
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(2), kWin);
	ExpectState(DTCP_TCP_CLOSING);
	Inject(Peer());
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, 0);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
}

TEST_F(TcpClose, Established_ShutdownWindowLimited_FinAfterLastByte)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	// The peer's window shrinks to 2 bytes.
	Inject(Peer().win(2));
	ExpectNoTx();
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "abcdef", 6), 6);
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	uint64_t held = Ctr(DTCP_CTR_tcp_sws_held);
	Poll();
	// Two bytes would fit, but a window that small is silly (RFC 9293
	// §3.8.6.2.1): nothing goes until the override timeout forces it.
	ExpectNoTx();
	EXPECT_GT(Ctr(DTCP_CTR_tcp_sws_held), held);
	Advance(Info().rto_ms - 1);
	ExpectNoTx();
	Advance(2);
	// Two bytes fit; the FIN waits behind the four that do not.
	TcpSeg a = ExpectSeg(ExpectOneTx(), "A", O(1), P(1), kWin);
	EXPECT_EQ(a.payload, Bytes({ 'a', 'b' }));
	EXPECT_EQ(Info().snd_nxt, O(3));
	// The window opens: the rest, and the FIN at O(7), the end of the data.
	Inject(Peer().ack_(O(3)).win(100));
	TcpSeg b = ExpectSeg(ExpectOneTx(), "FPA", O(3), P(1), kWin);
	EXPECT_EQ(b.payload, Bytes({ 'c', 'd', 'e', 'f' }));
	EXPECT_EQ(Info().snd_nxt, O(8));
	Inject(Peer().ack_(O(8)));
	ExpectNoTx();
	ExpectState(DTCP_TCP_FIN_WAIT_2);
}

TEST_F(TcpClose, SynSent_Shutdown_FinAfterHandshake)
{
	Start();
	ASSERT_NE(Connect(), nullptr);
	Poll();
	ExpectSyn(ExpectOneTx());
	// Half-close before the handshake: the FIN waits for ESTABLISHED.
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	Poll();
	ExpectNoTx();
	ExpectState(DTCP_TCP_SYN_SENT);
	Seg sa = Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss);
	if (cfg_.tcp_sack)
		sa.sack_ok();
	Inject(sa);
	snd_ = rcv_ = 1;
	std::vector<Bytes> tx = TakeTx();
	ASSERT_GE(tx.size(), 1u);
	// The handshake's ACK may go on its own; the FIN is <SEQ=O(1)><ACK=P(1)>.
	if (tx.size() == 2)
		ExpectSeg(tx[0], "A", O(1), P(1), kWin);
	EXPECT_LE(tx.size(), 2u);
	ExpectSeg(tx.back(), "FA", O(1), P(1), kWin);
	ExpectEvent(DTCP_EV_CONNECTED);
	ExpectState(DTCP_TCP_FIN_WAIT_1);
	Inject(Peer().ack_(O(2)));
	ExpectState(DTCP_TCP_FIN_WAIT_2);
}

TEST_F(TcpClose, SynSent_Close_GoneWithoutRst)
{
	Start();
	ASSERT_NE(Connect(), nullptr);
	Poll();
	ExpectSyn(ExpectOneTx());
	// §3.10.4 CLOSE, SYN-SENT: delete the TCB; nothing to tell the peer.
	dtcp_tcp_close(w_, conn_);
	conn_ = nullptr;
	Poll();
	ExpectNoTx();
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_SYN_SENT), 0u);
	// No SYN retransmission; a late SYN-ACK meets a closed port.
	Advance(10000);
	ExpectNoTx();
	Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss));
	ExpectRst(ExpectOneTx(), O(1));
	ExpectNoEvents();
}

TEST_F(TcpClose, FinWait1ShutdownThenClose_FinWait2TimesOut)
{
	cfg_.tcp_fin_timeout_ms = 5000;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	dtcp_tcp_close(w_, conn_);
	conn_ = nullptr;
	Poll();
	ExpectNoTx();
	Inject(Peer());
	ExpectNoTx();
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 1u);
	Advance(5000 + 1);
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_2), 0u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timeout_fin_wait2), 1u);
	ExpectNoEvents();
}

// RFC 9293 §3.10.5 ABORT: SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2,
// CLOSE-WAIT send <SEQ=SND.NXT><CTL=RST>.
TEST_F(TcpClose, FinWait1_Abort_RstAfterFin)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	dtcp_tcp_abort(w_, conn_);
	conn_ = nullptr;
	Poll();
	ExpectRst(ExpectOneTx(), O(2));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_FIN_WAIT_1), 0u);
	Advance(10000);
	ExpectNoTx();
}

TEST_F(TcpClose, CloseWait_Abort_RstNoEvents)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToCloseWait());
	dtcp_tcp_abort(w_, conn_);
	conn_ = nullptr;
	Poll();
	ExpectRst(ExpectOneTx(), O(1));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_CLOSE_WAIT), 0u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_aborted), 1u);
}

// RFC 9293 §3.10.5 ABORT, "CLOSING STATE, LAST-ACK STATE, TIME-WAIT STATE:
// Respond with 'ok' and delete the TCB": no RST (the peer has sent its FIN
// and only our FIN's ACK is outstanding).
TEST_F(TcpClose, LastAck_Abort_NoRstTcbDeleted)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToCloseWait());
	ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(2), kWin);
	dtcp_tcp_abort(w_, conn_);
	conn_ = nullptr;
	Poll();
	std::vector<Bytes> tx = TakeTx();
	EXPECT_EQ(tx.size(), 0u) << "sent " << (tx.empty() ? "" : ToString(ParseTcp(tx[0])));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_LAST_ACK), 0u);
	Advance(10000);
	ExpectNoTx();
}

TEST_F(TcpClose, Closing_Abort_NoRstTcbDeleted)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ShutdownSendsFin());
	Inject(Peer(kFin | kAck).ack_(O(1)));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	ExpectEvent(DTCP_EV_PEER_CLOSED);
	ExpectState(DTCP_TCP_CLOSING);
	dtcp_tcp_abort(w_, conn_);
	conn_ = nullptr;
	Poll();
	std::vector<Bytes> tx = TakeTx();
	EXPECT_EQ(tx.size(), 0u) << "sent " << (tx.empty() ? "" : ToString(ParseTcp(tx[0])));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_CLOSING), 0u);
}

// --- TIME-WAIT records: timestamps, and the FIFO ---------------------------------------------

TEST_F(TcpClose, TimeWaitWithTimestamps_FinRetransmitted_AckCarriesTs)
{
	cfg_.tcp_timestamps = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_TRUE(ts_ok_);
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	Advance(100);
	peer_ts_ += 100;
	Inject(Peer(kFin | kAck).seq(P(1)));
	// ExpectSeg checks TS is there and TSval did not go back.
	TcpSeg s = ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	EXPECT_TRUE(s.has_ts);
	// TS.Recent is the FIN's TSval (the one the record kept): RFC 7323 §4.3.
	EXPECT_EQ(s.tsecr, peer_ts_ - 100);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_tw_fin_reack), 1u);
	// An old FIN (TSval below TS.Recent) fails PAWS: ACKed, 2 MSL not restarted.
	Advance(1000);
	Inject(Peer(kFin | kAck).seq(P(1)).ts(peer_ts_ - 1000, our_ts_));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_paws_rejected), 1u);
	Advance(2 * kMslMs - 1000 + 1);
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u) << "2 MSL from the good FIN, not the old one";
}

TEST_F(TcpClose, TimeWait_TwoRecords_EachLastsTwoMslRestartReorders)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());          // A at t
	Advance(500);
	ASSERT_NO_FATAL_FAILURE(OpenPassive(PeerSyn().sport(kPeerPort + 1)));
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());          // B at t + 500
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 2u);
	Advance(500);                                   // t + 1000: A's FIN again
	rport_ = kPeerPort;
	Inject(Peer(kFin | kAck).seq(P(1)));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	// A now ends at t + 3000, after B (t + 2500).
	Advance(1001);                                  // t + 2001
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 2u);
	Advance(500);                                   // t + 2501
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	// The one left is A: it still answers.
	Inject(Peer().seq(P(1)).data("q"));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2), kWin);
	Advance(500);                                   // t + 3001
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timewait_expired), 2u);
}

// The ISN source already above the old SND.NXT: the engine keeps its answer.
TEST_F(TcpClose, TimeWait_SynHigherSeqIssAlreadyAbove_IssKept)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(ToTimeWait());
	iss_ = O(0x01000000);
	Inject(Seg().syn().seq(P(100000)).win(kPeerWin).mss(kPeerMss));
	TcpSeg sa = ParseTcp(ExpectOneTx());
	EXPECT_EQ(FlagsString(sa.flags), "SA");
	EXPECT_EQ(sa.seq, iss_);
	EXPECT_EQ(sa.ack, P(100001));
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_tw_reuse), 1u);
}

// tcp.h: dtcp_tcp_accept() hands over events that came before it, "even a FIN",
// in order.
TEST_F(TcpClose, AcceptQueue_DataAndFinBeforeAccept_DeliveredInOrderAfter)
{
	auto_accept_ = false;
	Start();
	Listen();
	Inject(PeerSyn());
	ASSERT_EQ(FlagsString(ParseTcp(ExpectOneTx()).flags), "SA");
	snd_ = rcv_ = 1;
	Inject(Peer(kFin | kPsh | kAck).data("early"));
	rcv_ += 6;
	ExpectSeg(ExpectOneTx(), "A", O(1), P(7), kWin - 5);
	ExpectEvent(DTCP_EV_ACCEPTABLE);
	struct dtcp_conn *c = AcceptOne();
	ASSERT_NE(c, nullptr);
	conn_ = c;
	ExpectState(DTCP_TCP_CLOSE_WAIT);
	Poll();
	std::vector<Event> evs = ExpectEvents({ DTCP_EV_DATA, DTCP_EV_PEER_CLOSED });
	ASSERT_EQ(evs.size(), 2u);
	EXPECT_EQ(evs[0].data, Bytes({ 'e', 'a', 'r', 'l', 'y' }));
	// And it closes from CLOSE-WAIT as any other.
	ASSERT_EQ(dtcp_tcp_shutdown(w_, c), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(7), kWin);
	snd_++;
	Inject(Peer());
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, 0);
}

} // namespace
