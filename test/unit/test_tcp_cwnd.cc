// SPDX-License-Identifier: BSD-3-Clause
// Congestion control on the wire: a real connection driven through the
// worker by crafted ACKs, and the segments it releases counted and checked
// one by one (SEQ, length, flags, ACK, window, payload). The initial window
// (RFC 6928), slow start and congestion avoidance (RFC 5681 §3.1, RFC 3465),
// sender SWS avoidance on the peer's window (RFC 9293 §3.8.6.2.1), limited
// transmit (RFC 3042), NewReno's fast retransmit and partial ACKs (RFC
// 6582), CUBIC's window against the RFC 9438 formulas, and when we
// acknowledge (RFC 5681 §4.2).
//
// The peer is simulated here: it acknowledges what the test says it
// received, one RTT after it was sent, echoing the TSval of the segment that
// made it send the ACK, so with timestamps every RTT sample is exact. All
// the ACKs of a round arrive at the same instant, so the segments they
// release leave together and are acknowledged together one RTT later.
// Expected windows are computed here from the RFCs' formulas, never from
// the library's functions.
#include "tcp_harness.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace {

class TcpCwnd : public TcpTest {
protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		cfg_.tcp_timestamps = 0;
		cfg_.tcp_window_scale = 1;
		cfg_.tcp_sack = 0;
		// The peer's window, 65535 << 4 (about 1 MiB), never limits the sender.
		peer_ws_ = 4;
	}

	// An active open whose SYN-ACK arrives rtt_us after our SYN (the first RTT
	// sample, RFC 6298 §2.2) and announces peer_mss.
	void Open(uint64_t rtt_us = 100000, uint16_t peer_mss = kPeerMss)
	{
		ASSERT_NE(Connect(), nullptr);
		Poll();
		ts_ok_ = cfg_.tcp_timestamps != 0;
		sack_ok_ = cfg_.tcp_sack != 0;
		ws_ok_ = cfg_.tcp_window_scale != 0;
		ExpectSyn(ExpectOneTx());
		AdvanceUs(rtt_us);
		ExpectNoTx();
		Seg sa = Seg().syn().ack().seq(P(0)).ack_(O(1)).win(peer_win_).mss(peer_mss);
		if (sack_ok_)
			sa.sack_ok();
		if (ts_ok_)
			sa.ts(peer_ts_, our_ts_);
		if (ws_ok_)
			sa.nop().ws(peer_ws_);
		snd_ = rcv_ = 1;
		Inject(sa);
		ExpectSeg(ExpectOneTx(), "A", O(1), P(1), Win());
		ExpectEvent(DTCP_EV_CONNECTED);
		ExpectState(DTCP_TCP_ESTABLISHED);
		// The peer's first scaled window (a SYN-ACK's never is, RFC 7323
		// §2.2), before any data: every later ACK carries the same window,
		// so duplicates are duplicates from the first (RFC 5681 §2).
		Inject(AckOf(0));
		ExpectNoTx();
		EXPECT_EQ(Info().snd_wnd, (uint32_t)peer_win_ << (ws_ok_ ? peer_ws_ : 0));
		mss_ = Info().snd_mss;
		ASSERT_FALSE(HasFailure()) << "active open";
		Mark();
	}

	uint16_t Win() const { return WinField(cfg_.tcp_rcvbuf); }

	// n more bytes queued on conn_; stream_[i] is the byte at O(1 + i).
	void Queue(size_t n)
	{
		Bytes b = Pattern(n, (unsigned)stream_.size());
		ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, b.data(), (uint32_t)n), (int)n);
		stream_.insert(stream_.end(), b.begin(), b.end());
	}

	// The send buffer filled up, never past it (no WRITABLE event follows):
	// the sender always has more to send than any window allows.
	void Fill()
	{
		uint32_t space = dtcp_tcp_send_space(conn_);

		if (space > 0)
			Queue(space);
	}

	// The stream offset of sequence number O(1 + off).
	uint32_t Off(uint32_t seq) const { return seq - O(1); }

	// A segment we sent: ours, ACK P(1), our window, a payload of the
	// stream's bytes at its SEQ, at most an MSS, PSH only on the last byte
	// queued. Records its TSval for the peer's echo.
	struct Sent {
		uint32_t off = 0, len = 0, tsval = 0;
	};
	Sent Check(const Bytes &frame)
	{
		TcpSeg p = ParseTcp(frame);
		Sent s;

		s.off = Off(p.seq);
		s.len = (uint32_t)p.payload.size();
		s.tsval = p.tsval;
		bool last = (uint64_t)s.off + s.len == stream_.size();
		ExpectSeg(frame, last ? "PA" : "A", p.seq, P(1), Win());
		EXPECT_GT(s.len, 0u) << "a segment without data: " << ToString(p);
		EXPECT_LE(s.len, mss_) << ToString(p);
		if ((uint64_t)s.off + s.len <= stream_.size()) {
			EXPECT_TRUE(std::equal(p.payload.begin(), p.payload.end(),
					       stream_.begin() + (long)s.off))
				<< "payload is not the stream's bytes at O(1 + " << s.off << ")";
		} else {
			ADD_FAILURE() << "data past what was queued: " << ToString(p);
		}
		return s;
	}

	// Everything sent since the last call must be new data, contiguous from
	// nxt_; it joins flying_. Returns the segments.
	std::vector<Sent> TakeNew()
	{
		std::vector<Sent> out;

		for (const Bytes &f : TakeTx()) {
			Sent s = Check(f);
			EXPECT_EQ(s.off, nxt_) << "new data expected at O(1 + " << nxt_ << "), got O(1 + "
					       << s.off << ")";
			nxt_ = s.off + s.len;
			flying_.push_back(s);
			out.push_back(s);
		}
		return out;
	}

	// Exactly `bytes` of new data released, in full-sized segments but for a
	// shorter last one (where the queue or the peer's window ends), at nxt_.
	void ExpectReleased(uint32_t bytes, const std::string &why = "")
	{
		SCOPED_TRACE("release of " + std::to_string(bytes) + " bytes " + why);
		uint32_t from = nxt_;
		std::vector<Sent> segs = TakeNew();
		uint32_t left = bytes;

		for (size_t k = 0; k < segs.size(); k++) {
			uint32_t want = std::min<uint32_t>(left, mss_);
			EXPECT_EQ(segs[k].len, want) << "segment " << k << " at O(1 + " << segs[k].off
						     << ")";
			left -= std::min(left, segs[k].len);
		}
		EXPECT_EQ(nxt_ - from, bytes) << segs.size() << " segments released";
	}

	// Exactly one segment, a retransmission of [off, off + len).
	Sent ExpectRetransmit(const Bytes &frame, uint32_t off, uint32_t len)
	{
		Sent s = Check(frame);
		EXPECT_EQ(s.off, off) << "retransmission at O(1 + " << off << ")";
		EXPECT_EQ(s.len, len);
		EXPECT_LT(s.off, nxt_) << "not new data";
		return s;
	}

	// Limited transmit (RFC 3042 §2; RFC 5681 §3.2 step 1: "On the first and
	// second duplicate ACKs received at a sender, a TCP SHOULD send a segment
	// of previously unsent data ... provided that the receiver's advertised
	// window allows, the total FlightSize would remain less than or equal to
	// cwnd plus 2*SMSS, and that new data is available for transmission.
	// Further, the TCP sender MUST NOT change cwnd to reflect these two
	// segments"): exactly one segment after the duplicate ACK just injected,
	// new data at nxt_ (SEQ O(1 + nxt_)), flags A (more is queued), a full
	// SMSS of the stream's bytes; cwnd what it was. It joins flying_.
	Sent ExpectLimitedTransmit(uint32_t cwnd_before)
	{
		std::vector<Bytes> tx = TakeTx();
		Sent s;

		EXPECT_EQ(tx.size(), 1u) << "one new segment per duplicate ACK (RFC 3042)";
		if (tx.empty())
			return s;
		TcpSeg p = ExpectSeg(tx[0], "A", O(1 + nxt_), P(1), Win());
		EXPECT_EQ(p.payload.size(), mss_) << ToString(p);
		s = Check(tx[0]);
		nxt_ = s.off + s.len;
		flying_.push_back(s);
		for (size_t k = 1; k < tx.size(); k++)
			ADD_FAILURE() << "and more: " << ToString(ParseTcp(tx[k]));
		EXPECT_EQ(Info().cwnd, cwnd_before) << "RFC 3042: cwnd MUST NOT be changed";
		return s;
	}

	// The peer's ACK of everything below O(1 + upto), echoing tsecr.
	Seg AckOf(uint32_t upto, uint32_t tsecr = 0) const
	{
		Seg s = Seg().ack().seq(P(1)).ack_(O(1 + upto)).win(peer_win_);

		if (ts_ok_)
			s.ts(peer_ts_, tsecr);
		return s;
	}
	void Ack(uint32_t upto, uint32_t tsecr = 0)
	{
		una_ = std::max(una_, upto);
		Inject(AckOf(upto, tsecr));
		while (!flying_.empty() && flying_.front().off + flying_.front().len <= una_)
			flying_.erase(flying_.begin());
	}

	// Bytes in flight as the wire shows them.
	uint32_t Flight() const { return nxt_ - una_; }

	// One round: rtt_ms after the segments in flight left, the peer
	// acknowledges each of them with an ACK of its own, in order. The
	// segments those ACKs release are the next round's. The send buffer is
	// topped up first, so the window alone limits the sender. With count,
	// only the first count segments in flight are acknowledged; on_ack runs
	// after each ACK with the bytes it acknowledged. Returns the ACKs sent.
	size_t AckRound(uint64_t rtt_ms, const std::function<void(uint32_t)> &on_ack = nullptr,
			size_t count = SIZE_MAX)
	{
		std::vector<Sent> round(flying_.begin(),
					flying_.begin() + (long)std::min(count, flying_.size()));

		if (rtt_ms > 0)
			Advance(rtt_ms);
		EXPECT_EQ(TakeTx().size(), 0u) << "sent while waiting for the round's ACKs";
		Fill();
		bool failed = HasFailure();
		for (const Sent &s : round) {
			uint32_t before = una_;
			Ack(s.off + s.len, s.tsval);
			if (on_ack)
				on_ack(una_ - before);
			TakeNew();
			if (!failed && HasFailure())
				break;     // one failure, not a screenful
		}
		return round.size();
	}

	uint64_t CtrSinceMark(enum dtcp_ctr c) const { return Ctr(c) - mark_[c]; }

	uint16_t peer_win_ = kPeerWin;  // the window field of the peer's SYN-ACK and ACKs
	uint32_t mss_ = 0;
	Bytes stream_;
	uint32_t nxt_ = 0;            // O(1 + nxt_): the next new byte we expect to see sent
	uint32_t una_ = 0;            // what the peer has acknowledged
	std::vector<Sent> flying_;    // new data sent and not yet acknowledged, in order
};

// ==== The initial window (RFC 6928 §2) =======================================================

struct IwCase {
	const char *name;
	uint16_t mtu;          // the port's and the configuration's
	uint16_t peer_mss;
	bool timestamps;
	uint16_t mss;          // what we send in a segment: min(peer MSS, MTU - 40) - 12 with TS
	unsigned segments;     // what leaves at once: the whole segments IW holds
};

class TcpCwndIw : public TcpCwnd, public ::testing::WithParamInterface<IwCase> {};

// RFC 6928 §2: IW = min (10*MSS, max (2*MSS, 14600)) is the upper bound of
// the initial window; a sender may send less. cwnd starts at it, and what
// goes out at once is the whole segments it holds, nothing more until an
// ACK: ten full segments for every MSS up to 1460, fewer and larger ones
// above it. Where IW is not a whole number of segments (MSS 4000: 14600 is
// 3.65 segments) the 2600-byte tail that cwnd alone cuts short is not sent:
// 12000 bytes go, within the bound. RFC 5681 says nothing of how cwnd's
// bytes are cut into segments; this sender keeps to full-sized segments
// while more data waits, and the ACKs open cwnd by whole segments.
TEST_P(TcpCwndIw, Established_PlentyQueued_InitialWindowThenNothingUntilAck)
{
	const IwCase &c = GetParam();
	cfg_.mtu = c.mtu;
	port_mtu_ = c.mtu;
	cfg_.tcp_timestamps = c.timestamps;
	Start();
	ASSERT_NO_FATAL_FAILURE(Open(100000, c.peer_mss));
	ASSERT_EQ(mss_, c.mss);
	uint32_t iw = std::min(10u * c.mss, std::max(2u * c.mss, 14600u));
	EXPECT_EQ(Info().cwnd, iw);
	EXPECT_EQ(iw / c.mss, c.segments) << "the case's own arithmetic";
	const uint32_t sent = c.segments * c.mss;
	EXPECT_LE(sent, iw);

	Queue(200000);
	Poll();
	std::vector<Sent> segs = TakeNew();
	ASSERT_EQ(segs.size(), c.segments);
	for (size_t k = 0; k < segs.size(); k++) {
		EXPECT_EQ(segs[k].off, k * c.mss);
		EXPECT_EQ(segs[k].len, c.mss) << "whole segments only";
	}
	EXPECT_EQ(nxt_, sent);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tx_data), c.segments);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tx_data_bytes), sent);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sws_held), 0u) << "cwnd, not the peer, cut the tail";

	// Nothing more before the retransmission timer (SRTT 100 ms: RTO 300 ms).
	ASSERT_EQ(Info().rto_ms, 300u);
	Advance(299);
	ExpectNoTx();
	// An ACK of the first segment: slow start, cwnd + min(acked, 2 SMSS),
	// and the segment's room: 2 more whole segments (MSS 4000: cwnd 18600,
	// 8000 in flight, room for 2.65 segments, so 2).
	Ack(segs[0].len, segs[0].tsval);
	ExpectReleased(2 * segs[0].len);
	EXPECT_EQ(Info().cwnd, iw + segs[0].len);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u);
}

INSTANTIATE_TEST_SUITE_P(
	Mss, TcpCwndIw,
	::testing::Values(IwCase{ "Mss1460", 1500, 1460, false, 1460, 10 },
			  IwCase{ "Mss1448Timestamps", 1500, 1460, true, 1448, 10 },
			  IwCase{ "Mss536", 1500, 536, false, 536, 10 },
			  IwCase{ "Mss1200", 1500, 1200, false, 1200, 10 },
			  // IW 14600 bytes: three whole segments of 4000 (12000); the
			  // 2600 left of cwnd is no segment.
			  IwCase{ "Mss4000Jumbo", 9000, 4000, false, 4000, 3 },
			  // 2 * 8960 = 17920 is above 14600: two segments.
			  IwCase{ "Mss8960Jumbo", 9000, 8960, false, 8960, 2 }),
	[](const ::testing::TestParamInfo<IwCase> &i) { return std::string(i.param.name); });

// ==== Slow start (RFC 5681 §3.1, RFC 3465 with L = 2 SMSS) =================================

// Each ACK of new data below ssthresh grows cwnd by min(acked, 2 SMSS), the
// rule docs/tcp.md and tcp_cc.c document (RFC 3465 with L = 2 SMSS); with
// the room the ACK itself made, that is what each ACK releases on the wire.
TEST_F(TcpCwnd, SlowStart_EachAck_GrowsByAckedUpToTwoSmss)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t S = mss_;
	ASSERT_EQ(S, 1460u);
	Fill();
	Poll();
	ExpectReleased(10 * S, "initial window");
	uint32_t cwnd = 10 * S;

	// One ACK per segment: +1 SMSS each, so 2 segments out per ACK; 10 -> 20.
	for (int k = 0; k < 10; k++) {
		SCOPED_TRACE("per-segment ACK " + std::to_string(k));
		Ack(una_ + S);
		cwnd += S;
		ExpectReleased(2 * S);
		ASSERT_FALSE(HasFailure());
	}
	EXPECT_EQ(Info().cwnd, cwnd);
	EXPECT_EQ(Flight(), 20 * S);

	// Delayed ACKs, one per two segments: +2 SMSS each (the L = 2 SMSS cap
	// is exactly reached), 4 segments out per ACK; 20 -> 40.
	for (int k = 0; k < 10; k++) {
		SCOPED_TRACE("ACK of two segments " + std::to_string(k));
		Ack(una_ + 2 * S);
		cwnd += 2 * S;
		ExpectReleased(4 * S);
		ASSERT_FALSE(HasFailure());
	}
	EXPECT_EQ(Info().cwnd, cwnd);
	EXPECT_EQ(Flight(), 40 * S);

	// Stretch ACKs of three segments: still +2 SMSS (capped), so 5 out, not 6.
	for (int k = 0; k < 3; k++) {
		SCOPED_TRACE("ACK of three segments " + std::to_string(k));
		Ack(una_ + 3 * S);
		cwnd += 2 * S;
		ExpectReleased(5 * S);
		ASSERT_FALSE(HasFailure());
	}
	EXPECT_EQ(Info().cwnd, cwnd);

	// Byte counting: an ACK of half a segment grows cwnd by half a segment,
	// and releases one segment (the half acknowledged and the half grown),
	// not the two that counting ACKs would.
	Ack(una_ + S / 2);
	cwnd += S / 2;
	ExpectReleased(S);
	EXPECT_EQ(Info().cwnd, cwnd);
	EXPECT_EQ(Info().ssthresh, UINT32_MAX / 2) << "RFC 5681 §3.1: arbitrarily high";
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rexmit), 0u);
}

// ==== Sender SWS avoidance on the peer's window (RFC 9293 §3.8.6.2.1) ======================

// RFC 9293 §3.8.6.2.1 (RFC 1122 §4.2.3.4): with U the usable window the
// peer offers and D the data queued, a segment goes if a full one fits
// (min(D,U) >= Eff.snd.MSS), or if all the queued data fits, or if
// "min(D,U) >= Fs * Max(SND.WND)" ("Fs is a fraction whose recommended value
// is 1/2"), or when the override timeout occurs. The peer here never scales
// its window, and cwnd (IW, 10 segments) is never what limits.
//
// Max(SND.WND) = 4000: a window of 1080 with more queued is below SMSS and
// below 2000, so the 1080 bytes wait, with data in flight or without; when
// the peer opens its window to one SMSS a full segment goes.
TEST_F(TcpCwnd, SenderSws_SmallWindowBelowHalfMax_HeldUntilWindowOpensToSmss)
{
	peer_ws_ = 0;
	peer_win_ = 4000;
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t S = mss_;
	ASSERT_EQ(S, 1460u);
	Queue(20 * S);
	Poll();
	// U = 4000: two full segments, then U = 1080 and more queued: held.
	ExpectReleased(2 * S);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sws_held), 1u);
	ExpectNoTx();

	// The peer acknowledges both; its application read nothing, so the right
	// edge stays where it was: window 4000 - 2920 = 1080. Nothing in flight
	// now, and still U = 1080 < 2000: held.
	Advance(100);
	peer_win_ = 1080;
	Ack(2 * S);
	ExpectNoTx();
	EXPECT_EQ(Info().snd_wnd, 1080u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sws_held), 2u);

	// Its application reads 380 bytes: a window update to exactly one SMSS.
	// A full segment goes, and nothing after it (U is 0 then).
	Advance(10);
	peer_win_ = (uint16_t)S;
	Inject(AckOf(2 * S));
	ExpectReleased(S);
	ExpectNoTx();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sws_held), 2u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tx_data_bytes), 3u * S) << "no short segment ever";
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rexmit), 0u);
}

// The override timeout: with nothing in flight and the small window never
// opening, the retransmission timer stands in for it (RFC 9293
// §3.8.6.2.1: "It may be convenient to combine this timer with the timer
// used to probe zero windows"), armed when the segment is held, and forces
// the 1080 bytes out exactly one RTO later. RTO here is 250 ms, within the
// RFC's "The override timeout should be in the range 0.1 - 1.0 seconds".
// The segment is new data, not a retransmission.
TEST_F(TcpCwnd, SenderSws_SmallWindowNothingInFlight_RetransmissionTimerForcesIt)
{
	peer_ws_ = 0;
	peer_win_ = 4000;
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t S = mss_;
	Queue(20 * S);
	Poll();
	ExpectReleased(2 * S);
	Advance(100);
	peer_win_ = 1080;
	Ack(2 * S);
	ExpectNoTx();
	ASSERT_EQ(CtrSinceMark(DTCP_CTR_tcp_sws_held), 2u);

	// RFC 6298 §2.3 after a sample of 100 ms on SRTT 100 ms, RTTVAR 50 ms:
	// RTTVAR 37.5 ms, RTO = 100 + 4 * 37.5 = 250 ms.
	const uint32_t rto = Info().rto_ms;
	ASSERT_EQ(rto, 250u);
	Advance(rto - 1);
	ExpectNoTx();
	Advance(1);
	ExpectReleased(1080, "the override timeout");
	ExpectNoTx();
	EXPECT_EQ(Info().snd_nxt, O(1 + 2 * S + 1080));
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u) << "nothing was lost";
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rexmit), 0u);
}

// Max(SND.WND) = 2000, Fs * Max(SND.WND) = 1000: after a full segment the
// 540 bytes left of the window wait; once the peer offers 1000 the 1000
// bytes go at once, though shorter than SMSS and with more queued; 999
// bytes would wait.
TEST_F(TcpCwnd, SenderSws_SmallWindowAtLeastHalfMax_SentAtOnce)
{
	peer_ws_ = 0;
	peer_win_ = 2000;
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t S = mss_;
	Queue(20 * S);
	Poll();
	ExpectReleased(S);
	ExpectNoTx();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sws_held), 1u) << "540 < 1000";

	// The ACK moves the right edge 460 bytes on: window 1000.
	Advance(100);
	peer_win_ = 1000;
	Ack(S);
	ExpectReleased(1000, "half the largest window");
	ExpectNoTx();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sws_held), 1u);

	// One byte less: held.
	Advance(100);
	peer_win_ = 999;
	Ack(S + 1000);
	ExpectNoTx();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_sws_held), 2u);
	EXPECT_EQ(Info().snd_nxt, O(1 + S + 1000));
}

// ==== Limited transmit with SACK (RFC 3042, RFC 5681 §3.2 step 1) ===========================

// RFC 5681 §3.2 step 1: "Note that a sender using SACK [RFC2018] MUST NOT
// send new data unless the incoming duplicate acknowledgment contains new
// information" (RFC 3042 §2 says the same: a misbehaving receiver could
// draw data out with such ACKs). SACK on: s0 lost, s1 arrives, and its
// duplicate ACK SACKs s1, new information: limited transmit sends s10.
// The same ACK again (duplicated on the way, or repeated by a receiver on
// purpose) SACKs nothing new: no new segment.
TEST_F(TcpCwnd, LimitedTransmit_SackDuplicateWithoutNewInfo_NoNewData)
{
	cfg_.tcp_sack = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t S = mss_;
	Fill();
	Poll();
	ExpectReleased(10 * S, "initial window");
	Advance(100);
	Seg dup = AckOf(0).sack({ { O(1 + S), O(1 + 2 * S) } });
	Inject(dup);
	EXPECT_EQ(ExpectLimitedTransmit(10 * S).off, 10 * S);
	Inject(dup);
	ExpectNoTx();
	EXPECT_EQ(Info().snd_nxt, O(1 + 11 * S));
	EXPECT_EQ(Info().cwnd, 10 * S);
}

// ==== NewReno: loss, fast recovery, congestion avoidance ===================================

// The loss every NewReno test below starts from: IW (10 segments), each
// acknowledged alone (cwnd 20 segments, 20 in flight), then the first
// segment of the next round lost and the other 19 answered with duplicate
// ACKs.
//  - The first and second: limited transmit (RFC 3042 §2, RFC 5681 §3.2
//    step 1), one new segment each beyond cwnd, cwnd unchanged.
//  - The third: fast retransmit. RFC 5681 §3.2 step 2: "When the third
//    duplicate ACK is received, a TCP MUST set ssthresh to no more than the
//    value given in equation (4). When [RFC3042] is in use, additional data
//    sent in limited transmit MUST NOT be included in this calculation":
//    ssthresh = max(FlightSize / 2, 2 SMSS) with FlightSize the round's 20
//    segments, not the 22 on the wire: 10 segments (11 if the two counted).
//    Step 3: cwnd = ssthresh + 3 SMSS = 13.
//  - Each further one inflates cwnd by one SMSS (step 4); once cwnd passes
//    the 22 segments in flight new data goes: the 13th to 19th duplicates
//    release one segment each.
// Leaves in flying_ the 2 limited-transmit segments and the 7 sent in
// recovery, in lt_ the two limited-transmit ones, and the retransmission's
// TSval in *rtx_tsval.
class TcpCwndNewReno : public TcpCwnd {
protected:
	void LossAfterSlowStart(uint32_t *rtx_tsval = nullptr)
	{
		const uint32_t S = mss_;

		Fill();
		Poll();
		ExpectReleased(10 * S, "initial window");
		AckRound(100);
		ASSERT_EQ(Flight(), 20 * S);
		ASSERT_EQ(Info().cwnd, 20 * S);
		Advance(100);
		std::vector<Sent> round = flying_;
		const uint32_t lost = una_;
		lt_.clear();
		for (size_t k = 1; k < round.size(); k++) {
			SCOPED_TRACE("duplicate ACK " + std::to_string(k));
			Inject(AckOf(lost, round[k - 1].tsval));
			if (k < 3) {
				Sent l = ExpectLimitedTransmit(20 * S);
				EXPECT_EQ(l.off, (20 + (uint32_t)k - 1) * S + lost);
				lt_.push_back(l);
			} else if (k == 3) {
				Sent r = ExpectRetransmit(ExpectOneTx(), lost, S);
				if (rtx_tsval != nullptr)
					*rtx_tsval = r.tsval;
				struct dtcp_conn_info i = Info();
				EXPECT_EQ(i.ssthresh, 10 * S)
					<< "max(FlightSize / 2, 2 SMSS), limited transmit left out";
				EXPECT_EQ(i.cwnd, 13 * S) << "ssthresh + 3 * SMSS";
				EXPECT_EQ(i.snd_nxt, O(1 + nxt_)) << "nothing rewound";
			} else if (k <= 12) {
				ExpectNoTx();
				EXPECT_EQ(Info().cwnd, (10 + k) * S) << "inflated, not past FlightSize";
			} else {
				ExpectReleased(S, "inflated past FlightSize");
				EXPECT_EQ(Info().cwnd, (10 + k) * S);
			}
			ASSERT_FALSE(HasFailure());
		}
		// flying_ holds the round first: the lost segment and its 19
		// successors, which the peer has.
		flying_.erase(flying_.begin(), flying_.begin() + (long)round.size());
		ASSERT_EQ(flying_.size(), 9u);
		ASSERT_EQ(nxt_, lost + 29 * S);
		EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 1u);
		EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_dupack_rx), 19u);
		EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rexmit), 1u);
	}

	// One RTT after LossAfterSlowStart(), in the order the segments left:
	// the two limited-transmit segments reach the peer before the
	// retransmission and draw duplicate ACKs of their own, which in recovery
	// inflate cwnd (29 -> 31 SMSS) and release one new segment each. Then the
	// retransmission's ACK covers the round and both of them, all of
	// `recover` (SND.MAX at the third duplicate): RFC 6582 §3.2 step 3,
	// recovery over, cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)
	// = min(10, 9 + 1) = 10 segments, one more released.
	void EndRecovery(uint32_t rtx_tsval)
	{
		const uint32_t S = mss_;
		const uint32_t lost = una_;

		Advance(100);
		ASSERT_EQ(lt_.size(), 2u);
		for (size_t k = 0; k < lt_.size(); k++) {
			SCOPED_TRACE("duplicate ACK for limited transmit " + std::to_string(k));
			Inject(AckOf(lost, lt_[k].tsval));
			ExpectReleased(S, "cwnd inflated in recovery");
			EXPECT_EQ(Info().cwnd, (30 + (uint32_t)k) * S);
		}
		ASSERT_EQ(Info().snd_nxt, O(1 + lost + 31 * S));
		Ack(lost + 22 * S, rtx_tsval);
		ExpectReleased(S, "cwnd = 9 in flight + 1");
		EXPECT_EQ(Info().cwnd, 10 * S);
		EXPECT_EQ(Info().ssthresh, 10 * S);
		EXPECT_EQ(Flight(), 10 * S);
	}

	std::vector<Sent> lt_;   // the limited-transmit segments of the last loss
};

// RFC 6582 §3.2 step 3 (and RFC 5681 §3.2 step 6): the ACK of the
// retransmission covers everything up to `recover`: recovery is over, and
// cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS), here 10 segments
// (9 in flight + 1). Then congestion avoidance: cwnd >= ssthresh, each ACK
// adds SMSS * acked / cwnd (RFC 5681 eq. 3 counted in bytes), so over a
// round of ACKs (one RTT) the window grows by just under one SMSS.
TEST_F(TcpCwndNewReno, CongestionAvoidance_AfterRecovery_AboutOneSmssPerRtt)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t S = mss_;
	uint32_t rtx_tsval = 0;
	ASSERT_NO_FATAL_FAILURE(LossAfterSlowStart(&rtx_tsval));
	ASSERT_NO_FATAL_FAILURE(EndRecovery(rtx_tsval));

	// The new data's ACKs, round by round, one per segment in flight. The
	// window on the wire is cwnd rounded down to whole segments: a sender
	// that keeps to full-sized segments while more data waits leaves the
	// fraction unused (CongestionAvoidance_OnlyFullSizedSegments). Each ACK
	// adds SMSS * SMSS / cwnd, so a round adds about SMSS * FlightSize /
	// cwnd: one SMSS less the share of cwnd left unused (under a segment),
	// what integer division drops (under a byte per ACK) and the growth
	// within the round itself (cwnd a little larger at each ACK).
	uint32_t w = Info().cwnd;
	for (int r = 1; r <= 12; r++) {
		SCOPED_TRACE("round " + std::to_string(r));
		size_t acks = AckRound(100);
		uint32_t cwnd = Info().cwnd;
		uint32_t steps = 0;
		for (size_t a = 0; a < acks; a++)
			steps += std::max<uint32_t>((uint32_t)((uint64_t)S * S / (w + steps)), 1);
		EXPECT_EQ(cwnd - w, steps) << "RFC 5681 equation 3 at each ACK";
		EXPECT_LE(cwnd - w, S);
		EXPECT_GE(cwnd - w, (uint64_t)S * acks * S / cwnd - acks) << "about SMSS per RTT";
		EXPECT_EQ(Flight(), cwnd / S * S) << "the window used, in whole segments";
		EXPECT_GE(Flight(), (9u + r) * S) << "a segment more each round, but for rounding";
		w = cwnd;
		ASSERT_FALSE(HasFailure());
	}
	// Twelve rounds from 10 segments: a little under 22.
	EXPECT_GT(w, 21 * S);
	EXPECT_LE(w, 22 * S);
	EXPECT_EQ(Info().ssthresh, 10 * S) << "no new loss";
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rexmit), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u);
}

// Sender SWS avoidance (RFC 9293 §3.8.6.2.1, RFC 1122 §4.2.3.4): with more
// than a segment queued, a segment goes out only when a full one fits.
// In congestion avoidance cwnd is not a whole number of segments after
// almost every ACK; the fraction waits for the ACKs that follow. Expected:
// one 1460-byte segment per ACK, and a second one only once the window has
// grown by a whole SMSS, never a runt of the bytes cwnd grew by.
TEST_F(TcpCwndNewReno, CongestionAvoidance_OnlyFullSizedSegments)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t S = mss_;
	uint32_t rtx_tsval = 0;
	ASSERT_NO_FATAL_FAILURE(LossAfterSlowStart(&rtx_tsval));
	ASSERT_NO_FATAL_FAILURE(EndRecovery(rtx_tsval));
	for (int r = 1; r <= 3; r++) {
		SCOPED_TRACE("round " + std::to_string(r));
		std::vector<Sent> round = flying_;
		size_t sent = 0;
		Advance(100);
		for (const Sent &s : round) {
			Ack(s.off + s.len, s.tsval);
			for (const Sent &n : TakeNew()) {
				EXPECT_EQ(n.len, S) << "a short segment with more queued, at O(1 + "
						    << n.off << ")";
				sent++;
			}
		}
		// Each ACK makes room for the segment it acknowledged, and the
		// round's growth (under one SMSS) for at most one more.
		EXPECT_GE(sent, round.size());
		EXPECT_LE(sent, round.size() + 1);
	}
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tx_data_bytes) % S, 0u);
}

// RFC 6582 §3.2: ten segments s0 .. s9 in flight (cwnd 10), s0 and s4
// lost; the peer's ACKs come in the order the segments left.
// One RTT in: s1 .. s3 and s5 .. s9 arrive, eight duplicate ACKs.
//  - 1st, 2nd: limited transmit (RFC 3042), s10 and s11.
//  - 3rd: s0 resent at once; ssthresh from FlightSize without s10, s11
//    (RFC 5681 §3.2 step 2): 10 / 2 = 5 (6 if they counted); cwnd 8;
//    recover = SND.MAX = 12 segments.
//  - 5 more: cwnd 9 .. 13 SMSS (step 4); 12 in flight, so only the last
//    (cwnd 13) releases one, s12.
// Two RTTs in: s10, s11, the resent s0 and s12 arrive.
//  - s10, s11: duplicates, still in recovery: cwnd 14, 15; s13, s14 go.
//  - s0: a partial ACK (up to the second hole, s4, below recover): s4
//    resent at once; cwnd deflated by the 4 segments acknowledged and,
//    since that is at least one SMSS, one added back (RFC 6582 §3.2 step
//    5): 15 - 4 + 1 = 12; 11 in flight, s15 goes.
//  - s12: a duplicate: cwnd 13, s16.
// Three RTTs in: s13, s14 (duplicates: cwnd 14, 15; s17, s18), then the
// resent s4: the peer holds s0 .. s14, past recover: recovery over, cwnd =
// min(ssthresh, FlightSize + SMSS) = min(5, 4 + 1) = 5 (both of step 3's
// options agree here; see FullAck_LittleInFlight_* for where they do not).
TEST_F(TcpCwndNewReno, Recovery_TwoHoles_PartialAckResendsSecondHoleFullAckEnds)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t S = mss_;
	Fill();
	Poll();
	ExpectReleased(10 * S, "initial window");
	Advance(100);

	// s1, s2, s3 arrive: three duplicate ACKs of O(1); the first two send
	// s10 and s11.
	for (uint32_t k = 1; k <= 2; k++) {
		SCOPED_TRACE("duplicate ACK " + std::to_string(k));
		Inject(AckOf(0));
		EXPECT_EQ(ExpectLimitedTransmit(10 * S).off, (9 + k) * S);
	}
	Inject(AckOf(0));
	ExpectRetransmit(ExpectOneTx(), 0, S);
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.ssthresh, 5 * S) << "max(FlightSize / 2, 2 SMSS), s10 and s11 left out";
	EXPECT_EQ(i.cwnd, 8 * S);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 1u);

	// s5 .. s9: five more; cwnd 9 .. 13, and 12 in flight.
	for (int k = 5; k <= 9; k++) {
		SCOPED_TRACE("duplicate for s" + std::to_string(k));
		Inject(AckOf(0));
		if (k < 9)
			ExpectNoTx();
		else
			ExpectReleased(S);
		EXPECT_EQ(Info().cwnd, (uint32_t)(k - 5 + 9) * S);
	}
	EXPECT_EQ(nxt_, 13 * S) << "s10, s11 by limited transmit, s12 in recovery";

	// s10, s11 arrive: duplicates that still inflate, one new segment each.
	Advance(100);
	for (int k = 10; k <= 11; k++) {
		SCOPED_TRACE("duplicate for s" + std::to_string(k));
		Inject(AckOf(0));
		ExpectReleased(S);
		EXPECT_EQ(Info().cwnd, (uint32_t)(k + 4) * S);
	}
	EXPECT_EQ(nxt_, 15 * S);

	// The first hole's retransmission arrives: ACK up to the second hole.
	Ack(4 * S);
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 2u) << "the second hole at once, then one new segment";
	ExpectRetransmit(tx[0], 4 * S, S);
	Sent n = Check(tx[1]);
	EXPECT_EQ(n.off, 15 * S);
	EXPECT_EQ(n.len, S);
	nxt_ = 16 * S;
	EXPECT_EQ(Info().cwnd, 12 * S) << "15 - 4 acknowledged + 1";
	EXPECT_EQ(Info().ssthresh, 5 * S) << "a partial ACK is no new loss";
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 1u);

	// s12 arrives before the second hole's retransmission: a duplicate.
	Inject(AckOf(4 * S));
	ExpectReleased(S);
	EXPECT_EQ(Info().cwnd, 13 * S);
	EXPECT_EQ(nxt_, 17 * S);

	// s13, s14: duplicates again, cwnd 14, 15.
	Advance(100);
	for (int k = 13; k <= 14; k++) {
		SCOPED_TRACE("duplicate for s" + std::to_string(k));
		Inject(AckOf(4 * S));
		ExpectReleased(S);
		EXPECT_EQ(Info().cwnd, (uint32_t)(k + 1) * S);
	}
	EXPECT_EQ(nxt_, 19 * S);

	// The second hole arrives: the peer holds s0 .. s14, past recover (s12).
	Ack(15 * S);
	ExpectReleased(S, "cwnd = min(5, 4 in flight + 1)");
	i = Info();
	EXPECT_EQ(i.cwnd, 5 * S);
	EXPECT_EQ(i.ssthresh, 5 * S);
	EXPECT_EQ(i.total_retransmits, 2u);
	// Out of recovery a duplicate ACK no longer inflates cwnd: it is the
	// first of a new count, and limited transmit sends one segment beyond
	// cwnd, which stays 5.
	Inject(AckOf(15 * S));
	ExpectLimitedTransmit(5 * S);

	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rexmit), 2u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_dupack_rx), 3u + 5 + 2 + 1 + 2 + 1);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u);
}

// RFC 6582 §3.2 step 3, first option: the full ACK sets cwnd to
// min(ssthresh, max(FlightSize, SMSS) + SMSS), which keeps the sender from
// a burst: with nothing left in flight (the application queued only
// the ten segments) that is 2 SMSS, not ssthresh (5). The next data goes
// two segments at a time, and slow start (cwnd < ssthresh) takes it back up.
TEST_F(TcpCwndNewReno, Recovery_FullAckLittleInFlight_CwndIsFlightPlusOneSmss)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t S = mss_;
	Queue(10 * S);
	Poll();
	ExpectReleased(10 * S);
	Advance(100);
	// No limited transmit: RFC 3042 §2 sends only "previously unsent data
	// queued for transmission", and there is none.
	for (int k = 1; k <= 2; k++) {
		Inject(AckOf(0));
		ExpectNoTx();
	}
	Inject(AckOf(0));
	ExpectRetransmit(ExpectOneTx(), 0, S);
	for (int k = 4; k <= 9; k++)
		Inject(AckOf(0));
	ExpectNoTx();
	EXPECT_EQ(Info().cwnd, 14 * S) << "inflated, but nothing queued";

	Advance(100);
	Ack(10 * S);
	ExpectNoTx();
	EXPECT_EQ(Info().cwnd, 2 * S) << "min(ssthresh 5, max(0, SMSS) + SMSS)";
	EXPECT_EQ(Info().ssthresh, 5 * S);
	Fill();
	Poll();
	ExpectReleased(2 * S, "the deflated window");
	Ack(una_ + S);
	ExpectReleased(2 * S, "slow start again below ssthresh");
	EXPECT_EQ(Info().cwnd, 3 * S);
}

// RFC 6582 §3.2 step 5: "If the partial ACK acknowledges at least one SMSS
// of new data, then add back SMSS bytes to the congestion window." A
// partial ACK of half a segment deflates by the half and adds nothing back:
// cwnd 13 - 0.5 = 12.5 SMSS after it, and nothing new beside the
// retransmission (12.5 SMSS are in flight).
TEST_F(TcpCwndNewReno, Recovery_PartialAckBelowOneSmss_NothingAddedBack)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t S = mss_;
	Fill();
	Poll();
	ExpectReleased(10 * S);
	Advance(100);
	// Limited transmit on the first two duplicates (s10, s11), the third
	// resends s0 (ssthresh 5, cwnd 8), five more inflate to 13 SMSS, which
	// passes the 12 in flight at the last: s12.
	for (int k = 1; k <= 2; k++) {
		Inject(AckOf(0));
		ExpectLimitedTransmit(10 * S);
	}
	Inject(AckOf(0));
	ExpectRetransmit(ExpectOneTx(), 0, S);
	for (int k = 4; k <= 8; k++)
		Inject(AckOf(0));
	ExpectReleased(S);
	ASSERT_EQ(Info().cwnd, 13 * S);
	ASSERT_EQ(Flight(), 13 * S);

	// Half of the first segment acknowledged: partial (recover is 12 segments).
	Ack(S / 2);
	std::vector<Bytes> tx = TakeTx();
	ASSERT_GE(tx.size(), 1u);
	ExpectRetransmit(tx[0], S / 2, S);
	EXPECT_EQ(Info().cwnd, 13 * S - S / 2) << "deflated by the half, nothing added back";
	EXPECT_EQ(tx.size(), 1u) << "nothing but the retransmission";
	for (size_t k = 1; k < tx.size(); k++)
		Check(tx[k]);
}

// RFC 6582 §3.2 step 1 and §4.1: after a timeout, `recover` is the highest
// sequence number sent, and duplicate ACKs that do not acknowledge past it
// (here the peer's duplicates for the lost first segment, delayed past the
// timeout) start no fast retransmit: no resend, no second reduction of
// ssthresh or cwnd. Once an ACK covers more than recover, three duplicates
// do start one again.
TEST_F(TcpCwndNewReno, Rto_DuplicatesBelowRecover_NoFastRetransmit)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint32_t S = mss_;
	Fill();
	Poll();
	ExpectReleased(10 * S);
	ASSERT_EQ(Info().rto_ms, 300u);
	Advance(299);
	ExpectNoTx();
	Advance(1);
	ExpectRetransmit(ExpectOneTx(), 0, S);
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.cwnd, S) << "RFC 5681 §3.1: the loss window";
	EXPECT_EQ(i.ssthresh, 5 * S) << "max(FlightSize / 2, 2 * SMSS)";
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 1u);

	// The peer's nine duplicates for s1 .. s9 arrive only now.
	for (int k = 1; k <= 9; k++) {
		SCOPED_TRACE("late duplicate " + std::to_string(k));
		Inject(AckOf(0));
		ExpectNoTx();
		i = Info();
		EXPECT_EQ(i.cwnd, S) << "no inflation: not in recovery";
		EXPECT_EQ(i.ssthresh, 5 * S) << "no second reduction";
	}
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_dupack_rx), 9u) << "counted as duplicates";
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 0u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rexmit), 1u);

	// The retransmission fills the hole: all ten acknowledged. Slow start
	// after a timeout counts at most L = 1 SMSS per ACK (RFC 3465 §2.3: the
	// ACKs of what the timeout resent may cover data the peer held long
	// before, and counting all of it would send a burst): cwnd 1 + 1 = 2
	// SMSS, not 3; two new segments, s10 and s11.
	Advance(100);
	Ack(10 * S);
	ExpectReleased(2 * S);
	EXPECT_EQ(Info().cwnd, 2 * S);
	// s10 arrives (an ACK past recover): cwnd 3, s12 and s13 go.
	Ack(11 * S);
	ExpectReleased(2 * S);
	EXPECT_EQ(Info().cwnd, 3 * S);
	// s11 is lost; s12, s13 arrive: two duplicates, limited transmit sends
	// s14 and s15 (RFC 3042), cwnd stays 3.
	Advance(100);
	for (uint32_t k = 1; k <= 2; k++) {
		SCOPED_TRACE("duplicate ACK " + std::to_string(k));
		Inject(AckOf(11 * S));
		EXPECT_EQ(ExpectLimitedTransmit(3 * S).off, (13 + k) * S);
	}
	// s14 arrives: the third duplicate, past recover: a fast retransmit
	// again. FlightSize is s11 .. s13 without the limited-transmit s14,
	// s15 (RFC 5681 §3.2 step 2): ssthresh max(3 / 2, 2) = 2 SMSS (2.5
	// with them); cwnd 2 + 3 = 5, 5 in flight: the hole alone.
	Advance(100);
	Inject(AckOf(11 * S));
	ExpectRetransmit(ExpectOneTx(), 11 * S, S);
	i = Info();
	EXPECT_EQ(i.ssthresh, 2 * S) << "max(FlightSize 3 / 2, 2 * SMSS)";
	EXPECT_EQ(i.cwnd, 5 * S);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 1u);
	// s15 arrives: cwnd 6, one new segment.
	Inject(AckOf(11 * S));
	ExpectReleased(S);
	EXPECT_EQ(Info().cwnd, 6 * S);
}

// ==== CUBIC (RFC 9438) ========================================================================

// RFC 9438 as it is written: windows in segments (doubles), time in seconds.
// The sender the RFC describes, fed the same ACKs at the same times as the
// connection, so that the window it arrives at can be held against the one
// on the wire. Slow start is RFC 5681's as the library documents it (L = 2
// SMSS, RFC 9438 §4.10 allows Reno's; L = 1 SMSS in the slow start after a
// timeout, RFC 3465 §2.3), fast recovery RFC 6582's (§4.6 leaves it to the
// loss recovery in use).
struct Rfc9438 {
	static constexpr double kC = 0.4;                       // §4.1.1
	static constexpr double kBeta = 0.7;                    // §4.1.1
	static constexpr double kAlpha = 3 * (1 - kBeta) / (1 + kBeta);  // §4.3

	double cwnd = 10, ssthresh = 1e9;
	double w_max = 0;            // 0: undefined (no loss yet, or after a timeout)
	double cwnd_prior = 0, cwnd_epoch = 0, w_est = 0, k = 0;
	double t_epoch = 0, rtt = 0;
	bool epoch = false, alpha_one = false;
	bool rto_ss = false;         // the slow start after a timeout: L = 1 SMSS

	// Figure 1.
	double Wcubic(double t) const { return kC * (t - k) * (t - k) * (t - k) + w_max; }

	// An ACK of segs segments of new data at time now, outside recovery.
	void OnAck(double now, double segs)
	{
		// (Windows are whole bytes: a cwnd within a byte of ssthresh is at it.)
		if (cwnd < ssthresh - 1e-3) {
			cwnd += std::min(segs, rto_ss ? 1.0 : 2.0);
			if (cwnd >= ssthresh - 1e-3)
				rto_ss = false;
			return;
		}
		if (!epoch) {
			// §4.2: the stage begins; §4.8: after a timeout W_max is this
			// cwnd and K is 0; §4.3: W_est starts at cwnd.
			epoch = true;
			t_epoch = now;
			cwnd_epoch = cwnd;
			if (w_max == 0)
				w_max = cwnd;
			k = w_max > cwnd ? std::cbrt((w_max - cwnd) / kC) : 0;   // Figure 2
			w_est = cwnd;
			alpha_one = w_est >= cwnd_prior;
		}
		double t = now - t_epoch;
		// §4.3: W_est += alpha * segments_acked / cwnd; alpha 1 from W_est >= cwnd_prior.
		w_est += (alpha_one ? 1 : kAlpha) * segs / cwnd;
		if (w_est >= cwnd_prior)
			alpha_one = true;
		if (Wcubic(t) < w_est) {
			cwnd = w_est;   // the Reno-friendly region
			return;
		}
		// §4.4, §4.5: cwnd += (target - cwnd) / cwnd per segment acknowledged,
		// target W_cubic(t + RTT) held within [cwnd, 1.5 cwnd].
		double target = std::min(std::max(Wcubic(t + rtt), cwnd), 1.5 * cwnd);
		cwnd += (target - cwnd) / cwnd * segs;
	}

	// §4.6, §4.7 (fast convergence on): the third duplicate ACK.
	void OnLoss(double flight)
	{
		w_max = cwnd < w_max ? cwnd * (1 + kBeta) / 2 : cwnd;
		cwnd_prior = cwnd;
		ssthresh = std::max(flight * kBeta, 2.0);
		epoch = false;
		rto_ss = false;
	}

	// RFC 6582 §3.2 step 3, the option the library takes.
	void OnRecoveryEnd(double flight) { cwnd = std::min(ssthresh, std::max(flight, 1.0) + 1); }

	// §4.8: Reno's loss window, ssthresh as §4.6, W_max forgotten.
	void OnRto(double flight)
	{
		cwnd_prior = cwnd;
		w_max = 0;
		ssthresh = std::max(flight * kBeta, 2.0);
		cwnd = 1;
		epoch = false;
		rto_ss = true;
	}
};

// CUBIC connections with timestamps (so every RTT sample is the round's
// exact RTT and SRTT is that RTT), the model above beside each of them.
//
// The tolerance of every comparison is one segment: the library grows cwnd
// in whole segments (the fraction waits in a credit counter), and its W_est
// too, while the model's are real numbers; the difference stays under one
// segment as long as the growth per ACK is under one segment, which it is
// here (the target is at most 1.5 cwnd, so (target - cwnd) / cwnd <= 0.5).
class TcpCwndCubic : public TcpCwnd {
protected:
	void SetUp() override
	{
		TcpCwnd::SetUp();
		cfg_.tcp_timestamps = 1;
		char err[128];
		ASSERT_EQ(dtcp_config_set(&cfg_, "tcp", "congestion", "cubic", err, sizeof(err)), 0)
			<< err;
		ASSERT_EQ(cfg_.tcp_cc, DTCP_CC_CUBIC);
	}

	double Now() const { return (double)now_ns_ * 1e-9; }
	double Segs(uint32_t bytes) const { return (double)bytes / mss_; }

	// Open with RTT rtt_ms, the initial window out; the model starts alike.
	void Begin(uint64_t rtt_ms)
	{
		rtt_ms_ = rtt_ms;
		ASSERT_NO_FATAL_FAILURE(Open(rtt_ms * 1000));
		ASSERT_EQ(mss_, 1448u);
		ASSERT_EQ(Info().srtt_us, rtt_ms * 1000);
		m_.rtt = (double)rtt_ms / 1000;
		Fill();
		Poll();
		ExpectReleased(10 * mss_, "initial window");
		m_.cwnd = 10;
	}

	// One round of ACKs, each one given to the model too.
	size_t Round(size_t count = SIZE_MAX, bool advance = true)
	{
		return AckRound(advance ? rtt_ms_ : 0,
				[this](uint32_t acked) { m_.OnAck(Now(), Segs(acked)); }, count);
	}

	// The first segment in flight is lost, the peer answers each of the
	// others with a duplicate ACK one RTT after they left. The first two
	// send a new segment each (limited transmit, RFC 3042; kept in lt_);
	// the third resends the hole; the others inflate cwnd (RFC 6582) and
	// release new data. Checks ssthresh and cwnd of §4.6 at the third, with
	// flight_size the round alone (RFC 5681 §3.2 step 2: "additional data
	// sent in limited transmit MUST NOT be included"); returns the
	// retransmission's TSval. Afterwards flying_ holds only the new data.
	uint32_t Loss()
	{
		const uint32_t S = mss_;
		std::vector<Sent> round = flying_;
		uint32_t hole = una_, rtx_tsval = 0;
		const uint32_t flight_bytes = Flight();
		double flight = Segs(flight_bytes);
		const uint32_t cwnd_bytes = Info().cwnd;
		double cwnd = Segs(cwnd_bytes);   // the first two duplicates leave it

		Advance(rtt_ms_);
		Fill();
		lt_.clear();
		for (size_t k = 1; k < round.size(); k++) {
			SCOPED_TRACE("duplicate ACK " + std::to_string(k));
			Inject(AckOf(hole, round[k - 1].tsval));
			if (k < 3) {
				Sent l = ExpectLimitedTransmit(cwnd_bytes);
				EXPECT_EQ(l.off, hole + flight_bytes + ((uint32_t)k - 1) * S);
				lt_.push_back(l);
			} else if (k == 3) {
				Sent r = ExpectRetransmit(ExpectOneTx(), hole, S);
				rtx_tsval = r.tsval;
				// The loss formulas take the sender's cwnd: the wire's, which
				// the model's is within a segment of.
				EXPECT_NEAR(m_.cwnd, cwnd, 1.0);
				m_.cwnd = cwnd;
				m_.OnLoss(flight);
				struct dtcp_conn_info i = Info();
				// ssthresh = flight_size * beta_cubic in bytes, truncated.
				EXPECT_EQ(i.ssthresh, (uint32_t)(flight_bytes * 7ull / 10));
				EXPECT_NEAR(Segs(i.ssthresh), m_.ssthresh, 1.0 / S);
				EXPECT_EQ(i.cwnd, i.ssthresh + 3 * S);
			} else {
				TakeNew();
			}
			if (HasFailure())
				break;
		}
		EXPECT_EQ(Info().cwnd, Info().ssthresh + (3 + (uint32_t)round.size() - 4) * S)
			<< "RFC 5681 §3.2 step 4: one SMSS for each duplicate after the third";
		flying_.erase(flying_.begin(), flying_.begin() + (long)round.size());
		return rtx_tsval;
	}

	// One RTT after the loss, in the order the segments left: the two
	// limited-transmit segments reach the peer before the retransmission and
	// draw duplicate ACKs, which inflate cwnd and release new data; then the
	// retransmission's ACK covers all of the old round and both of them, up
	// to `recover` (recovery over, cwnd = min(ssthresh, FlightSize + SMSS));
	// then the new data sent during recovery is acknowledged, segment by
	// segment, at the same instant: the first of those ACKs begins the
	// congestion avoidance stage (its t = 0).
	void EndRecovery(uint32_t rtx_tsval, uint32_t old_end)
	{
		const uint32_t hole = una_;

		Advance(rtt_ms_);
		Fill();
		ASSERT_EQ(lt_.size(), 2u);
		for (const Sent &l : lt_) {
			Inject(AckOf(hole, l.tsval));
			TakeNew();
		}
		Ack(lt_.back().off + lt_.back().len, rtx_tsval);
		ASSERT_EQ(una_, old_end + 2 * mss_);
		size_t recov = flying_.size();   // all sent in recovery
		m_.OnRecoveryEnd(Segs(Flight()));
		TakeNew();
		EXPECT_NEAR(Segs(Info().cwnd), m_.cwnd, 1.0 / mss_) << "min(ssthresh, FlightSize + SMSS)";
		ExpectWindowUsed();
		after_recovery_ = Flight();
		epoch_start_ = Now();
		EXPECT_EQ(Round(recov, false), recov);
	}

	// The wire's window against the model's, after a round; rows for the
	// failure message.
	void Compare(const std::string &what)
	{
		double wire = Segs(Flight());
		double t = Now() - m_.t_epoch;
		char row[200];

		snprintf(row, sizeof(row),
			 "%-10s t %6.3f s  wire %7.3f  lib cwnd %7.3f  model %7.3f  W_cubic(t) %7.3f  "
			 "W_cubic(t+RTT) %7.3f  W_est %7.3f\n",
			 what.c_str(), t, wire, Segs(Info().cwnd), m_.cwnd, m_.Wcubic(t),
			 m_.Wcubic(t + m_.rtt), m_.w_est);
		table_ += row;
		EXPECT_NEAR(wire, m_.cwnd, 1.0) << what << " at t = " << t << " s";
		ExpectWindowUsed();
	}

	// The sender is never application-limited here: the wire shows cwnd,
	// less under a segment (all of it while short segments fill the rest).
	void ExpectWindowUsed()
	{
		uint32_t cwnd = Info().cwnd;

		EXPECT_LE(Flight(), cwnd);
		EXPECT_GT(Flight() + mss_, cwnd) << "window not used";
	}

	void TearDown() override
	{
		if (HasFailure())
			printf("%s", table_.c_str());
		TcpCwnd::TearDown();
	}

	uint64_t rtt_ms_ = 0;
	Rfc9438 m_;
	double epoch_start_ = 0;
	uint32_t after_recovery_ = 0;   // bytes in flight once recovery ended
	std::vector<Sent> lt_;          // the limited-transmit segments of the last loss
	std::string table_;
};

// §4.6: on the third duplicate ACK, with W_max 40 segments (all in flight),
// ssthresh = 0.7 * 40 = 28 and, once recovery is over, 28 segments in
// flight: W_max * beta_cubic on the wire. Then the window follows Figure 1,
// W_cubic(t) = C (t - K)^3 + W_max with K = cbrt(W_max (1 - beta) / C) =
// cbrt(30) = 3.107 s: concave up to W_max near t = K, convex past it. With
// an RTT of 250 ms, W_est (§4.3) grows by 9/17 segment a round and, but
// for the stage's first instant (W_cubic(0) is cwnd_epoch, which W_est
// passes with the first ACK), stays below W_cubic: the CUBIC region.
TEST_F(TcpCwndCubic, FirstLoss_BetaThenConcaveAndConvexAlongWcubic)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Begin(250));
	const uint32_t S = mss_;
	Round();                      // 10 -> 20
	Round();                      // 20 -> 40
	ASSERT_EQ(Flight(), 40 * S);
	ASSERT_EQ(Info().cwnd, 40 * S);
	uint32_t old_end = nxt_;
	uint32_t rtx = Loss();
	ASSERT_FALSE(HasFailure());
	EXPECT_EQ(Info().ssthresh, 28 * S) << "0.7 * 40 segments";
	ASSERT_NO_FATAL_FAILURE(EndRecovery(rtx, old_end));
	EXPECT_EQ(after_recovery_, 28 * S) << "W_max * beta_cubic in flight";
	EXPECT_DOUBLE_EQ(m_.w_max, 40);
	EXPECT_NEAR(m_.k, std::cbrt(30.0), 1e-9);
	Compare("t=0");

	bool concave_seen = false, plateau_seen = false, convex_seen = false;
	for (int r = 1; r <= 20 && !HasFatalFailure(); r++) {
		Round();
		double t = Now() - epoch_start_;
		ASSERT_NEAR(t, r * 0.25, 1e-9);
		Compare("round " + std::to_string(r));
		double wire = Segs(Flight());
		EXPECT_LT(m_.w_est, m_.Wcubic(t)) << "the Reno-friendly region is not reached here";
		// The curve alone, whatever the model says: the window trails
		// W_cubic(t + RTT) (its target) and leads W_cubic(t) - 1.
		EXPECT_LE(wire, std::ceil(m_.Wcubic(t + m_.rtt))) << "round " << r;
		EXPECT_GE(wire, m_.Wcubic(t) - 1) << "round " << r;
		if (t < m_.k - 1)
			concave_seen = concave_seen || wire < 40;
		if (std::fabs(t - m_.k) < 0.25) {
			EXPECT_NEAR(wire, 40, 1) << "the plateau at W_max near t = K";
			plateau_seen = true;
		}
		if (t > m_.k + 1) {
			EXPECT_GT(wire, 40) << "convex: past W_max";
			convex_seen = true;
		}
	}
	EXPECT_TRUE(concave_seen && plateau_seen && convex_seen);
	EXPECT_EQ(Info().srtt_us, 250000u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u);
}

// §4.3: with a small W_max (20) and a short RTT (20 ms), W_cubic climbs
// 6 segments over K = cbrt(15) = 2.47 s, about 0.05 segment a round, while
// W_est climbs 9/17 a round and, once it reaches cwnd_prior (20), one a
// round: W_est is above W_cubic(t) from the first round and cwnd is W_est.
TEST_F(TcpCwndCubic, RenoFriendlyRegion_WindowIsWest)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Begin(20));
	const uint32_t S = mss_;
	Round();                      // 10 -> 20
	ASSERT_EQ(Flight(), 20 * S);
	uint32_t old_end = nxt_;
	uint32_t rtx = Loss();
	ASSERT_FALSE(HasFailure());
	EXPECT_EQ(Info().ssthresh, 14 * S);
	ASSERT_NO_FATAL_FAILURE(EndRecovery(rtx, old_end));
	Compare("t=0");

	for (int r = 1; r <= 30 && !HasFatalFailure(); r++) {
		Round();
		double t = Now() - epoch_start_;
		Compare("round " + std::to_string(r));
		double wire = Segs(Flight());
		EXPECT_GT(m_.w_est, m_.Wcubic(t)) << "round " << r << ": the Reno-friendly region";
		// W_est from the formula alone: 14 + 9/17 a round up to 20, then one.
		double rounds_to_20 = 6 / Rfc9438::kAlpha;
		double w_est = r <= rounds_to_20 ? 14 + Rfc9438::kAlpha * r : 20 + (r - rounds_to_20);
		EXPECT_NEAR(wire, w_est, 1.5) << "round " << r;
	}
	// Thirty rounds: W_est near 38, W_cubic(t + RTT) not even 18.
	double t = Now() - epoch_start_;
	EXPECT_GT(Segs(Flight()), m_.Wcubic(t + m_.rtt) + 15);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rexmit), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u);
}

// §4.7: a second loss at cwnd below W_max (40) lowers W_max further, to
// cwnd * (1 + beta) / 2, so the next plateau is 0.85 cwnd, not cwnd. The
// RTT is 500 ms, so W_est stays below W_cubic after the first instant.
TEST_F(TcpCwndCubic, SecondLossBelowWmax_FastConvergence)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Begin(500));
	const uint32_t S = mss_;
	Round();
	Round();
	ASSERT_EQ(Flight(), 40 * S);
	uint32_t old_end = nxt_;
	uint32_t rtx = Loss();
	ASSERT_FALSE(HasFailure());
	ASSERT_NO_FATAL_FAILURE(EndRecovery(rtx, old_end));
	Compare("t=0");
	for (int r = 1; r <= 2; r++) {
		Round();
		Compare("round " + std::to_string(r));
	}
	ASSERT_FALSE(HasFailure());

	// The second loss, at a window below W_max.
	double w2 = Segs(Info().cwnd);
	ASSERT_LT(w2, 40);
	ASSERT_GT(w2, 30);
	old_end = nxt_;
	rtx = Loss();
	ASSERT_FALSE(HasFailure());
	EXPECT_NEAR(m_.w_max, w2 * 0.85, 1e-9) << "fast convergence";
	ASSERT_NO_FATAL_FAILURE(EndRecovery(rtx, old_end));
	table_ += "second loss at " + std::to_string(w2) + " segments\n";
	Compare("t=0");
	double k = std::cbrt((0.85 * w2 - m_.cwnd_epoch) / 0.4);
	EXPECT_NEAR(m_.k, k, 1e-9);
	// W_cubic without fast convergence: W_max = w2, for contrast.
	double k_nofc = std::cbrt((w2 - m_.cwnd_epoch) / 0.4);
	bool apart = false;
	for (int r = 1; r <= 8 && !HasFatalFailure(); r++) {
		Round();
		double t = Now() - epoch_start_;
		Compare("round " + std::to_string(r));
		double wire = Segs(Flight());
		double nofc = 0.4 * std::pow(t + m_.rtt - k_nofc, 3) + w2;
		if (std::fabs(t - k) < 0.5) {
			EXPECT_NEAR(wire, 0.85 * w2, 1.0) << "the plateau at 0.85 * " << w2;
			if (nofc - wire > 3)
				apart = true;
		}
	}
	EXPECT_TRUE(apart) << "the plateau must tell fast convergence from none";
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 2u);
}

// §4.8: a timeout sets cwnd to one segment and ssthresh to 0.7 FlightSize
// (28 of 40), and forgets W_max. Slow start brings cwnd back to ssthresh;
// the stage that begins there has K = 0 and W_max = its first cwnd (28), so
// W_cubic(t) = 0.4 t^3 + 28, flat at first: W_est (from 28, 9/17 a round
// since cwnd_prior is 40) leads, until the cubic term catches up near
// t = 2.3 s. Had W_max stayed 40, the window would have climbed towards 40
// within the first second.
TEST_F(TcpCwndCubic, Rto_LossWindowThenKZeroFromSsthresh)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Begin(250));
	const uint32_t S = mss_;
	Round();
	Round();
	ASSERT_EQ(Flight(), 40 * S);
	// No ACK comes back for this round (the ACKs are lost): the timer fires.
	uint32_t rto = Info().rto_ms;
	ASSERT_GT(rto, 250u);
	Advance(rto - 1);
	ExpectNoTx();
	Advance(1);
	Sent r = ExpectRetransmit(ExpectOneTx(), una_, S);
	m_.OnRto(40);
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.cwnd, S);
	EXPECT_EQ(i.ssthresh, 28 * S) << "max(0.7 * FlightSize, 2 SMSS)";
	Advance(100);
	ExpectNoTx();

	// The peer had it all: the retransmission's ACK covers the 40 segments.
	// Slow start after a timeout counts at most L = 1 SMSS per ACK (RFC 3465
	// §2.3), so that ACK, for 40 segments, adds one: cwnd 2, not 3. Then a
	// segment per segment acknowledged: 4, 8, 16, and 28 after twelve ACKs
	// of the next round; the rest of that round is congestion avoidance.
	Advance(rtt_ms_ - 100);
	Fill();
	uint32_t before = una_;
	Ack(nxt_, r.tsval);
	m_.OnAck(Now(), Segs(una_ - before));
	flying_.clear();
	TakeNew();
	EXPECT_EQ(Flight(), 2 * S);
	EXPECT_EQ(Info().cwnd, 2 * S);
	for (int k = 0; k < 3; k++)
		Round();
	EXPECT_EQ(Flight(), 16 * S);
	EXPECT_FALSE(m_.epoch);
	Round();
	ASSERT_TRUE(m_.epoch);
	EXPECT_DOUBLE_EQ(m_.cwnd_epoch, 28);
	EXPECT_DOUBLE_EQ(m_.w_max, 28);
	EXPECT_DOUBLE_EQ(m_.k, 0);
	epoch_start_ = m_.t_epoch;
	Compare("first CA");
	bool reno_seen = false, cubic_seen = false;
	for (int n = 1; n <= 16 && !HasFatalFailure(); n++) {
		Round();
		double t = Now() - epoch_start_;
		Compare("round " + std::to_string(n));
		double wire = Segs(Flight());
		if (t <= 1.0) {
			// W_max 40 kept would give W_cubic(t + RTT) of 34 or more here.
			EXPECT_LT(wire, 32) << "t = " << t << ": the window must not head for 40";
		}
		if (m_.w_est > m_.Wcubic(t))
			reno_seen = true;
		else
			cubic_seen = true;
	}
	EXPECT_TRUE(reno_seen && cubic_seen);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 0u);
}

// dtcp_conn_set_cc() makes one connection of a NewReno worker CUBIC: at
// its first loss ssthresh is 0.7 FlightSize (14 of 20 segments), not half.
// Refused for a name it does not know, and while data is in flight.
TEST_F(TcpCwnd, SetCc_CubicOnOneConnection_BetaSevenTenths)
{
	cfg_.tcp_timestamps = 1;
	ASSERT_EQ(cfg_.tcp_cc, DTCP_CC_NEWRENO) << "the default";
	Start();
	ASSERT_NO_FATAL_FAILURE(Open(100000));
	EXPECT_EQ(dtcp_conn_set_cc(w_, conn_, "nosuch"), -EINVAL);
	ASSERT_EQ(dtcp_conn_set_cc(w_, conn_, "cubic"), 0);
	const uint32_t S = mss_;
	Fill();
	Poll();
	ExpectReleased(10 * S);
	EXPECT_EQ(dtcp_conn_set_cc(w_, conn_, "newreno"), -EINVAL) << "data in flight";
	AckRound(100);
	ASSERT_EQ(Flight(), 20 * S);
	Advance(100);
	uint32_t hole = una_;
	Fill();
	for (int k = 1; k <= 2; k++) {
		Inject(AckOf(hole, our_ts_));
		ExpectLimitedTransmit(20 * S);
	}
	Inject(AckOf(hole, our_ts_));
	ExpectRetransmit(ExpectOneTx(), hole, S);
	// FlightSize without the two limited-transmit segments (RFC 5681 §3.2
	// step 2): 0.7 * 20, not 0.7 * 22.
	EXPECT_EQ(Info().ssthresh, 14 * S) << "0.7 * 20 segments";
	EXPECT_EQ(Info().cwnd, 17 * S);
}

// ==== When we acknowledge (RFC 5681 §4.2), beyond test_tcp_ack ================================

// Delayed ACK on, at its default (40 ms); the peer sends, we receive. The
// first 16 segments of a connection are acknowledged at once (quick ACKs,
// docs/tcp.md), so every test spends them first.
class TcpCwndAck : public TcpTest {
protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		struct dtcp_config d;
		dtcp_config_defaults(&d);
		cfg_.tcp_delack_ms = d.tcp_delack_ms;
		cfg_.tcp_timestamps = 0;
		cfg_.tcp_window_scale = 0;
		cfg_.tcp_rcvbuf = 65535;
	}

	void Open()
	{
		ASSERT_EQ(cfg_.tcp_delack_ms, 40u) << "the default delayed-ACK wait";
		Start();
		ASSERT_NO_FATAL_FAILURE(OpenPassive());
		for (unsigned k = 0; k < 16; k++) {
			Inject(Data(std::string(1, 'q'), 0));
			rcv_ += 1;
			ExpectAck();
		}
		TakeEvents();
		ASSERT_FALSE(HasFailure()) << "quick ACKs";
		Mark();
	}

	// Data from the peer at P(rcv_ + at).
	Seg Data(const std::string &d, uint32_t at) const
	{
		Seg s = Seg().ack().seq(P(rcv_ + at)).ack_(O(snd_)).win(kPeerWin).data(d);

		if (ts_ok_)
			s.ts(peer_ts_, our_ts_);
		return s;
	}
	Seg Full(uint32_t at) const { return Data(std::string(Full(), 'f'), at); }
	uint32_t Full() const { return ts_ok_ ? 1448u : 1460u; }

	// Our ACK of everything up to P(rcv_), our window, no data.
	void ExpectAck()
	{
		TcpSeg s = ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), WinField(cfg_.tcp_rcvbuf));
		EXPECT_EQ(s.payload.size(), 0u);
	}

	uint64_t CtrSinceMark(enum dtcp_ctr c) const { return Ctr(c) - mark_[c]; }
};

// RFC 5681 §4.2: "an ACK SHOULD be generated for at least every second
// full-sized segment". A steady flow of full-sized segments: the 2nd, 4th,
// ... are acknowledged at once, each ACK exactly at the new RCV.NXT; the odd
// ones wait. A last odd one waits the whole delack_ms (40 ms), no more.
TEST_F(TcpCwndAck, Established_SteadyFullSizedFlow_EverySecondSegmentAcked)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	for (int k = 1; k <= 12; k++) {
		SCOPED_TRACE("segment " + std::to_string(k));
		Inject(Full(0));
		rcv_ += Full();
		if (k % 2 == 0)
			ExpectAck();
		else
			ExpectNoTx();
		ASSERT_FALSE(HasFailure());
	}
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tx_ack_only), 6u);
	Inject(Full(0));
	rcv_ += Full();
	ExpectNoTx();
	Advance(39);
	ExpectNoTx();
	Advance(1);
	ExpectAck();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_delack_tx), 1u);
	EXPECT_EQ(ReceivedBytes().size(), 16 + 13u * Full());
}

// With timestamps a full-sized segment carries MSS - 12 = 1448 bytes: two
// of them are two full-sized segments.
TEST_F(TcpCwndAck, Established_TimestampsFullSizedIsMssLessOptions_EverySecondAcked)
{
	cfg_.tcp_timestamps = 1;
	ASSERT_NO_FATAL_FAILURE(Open());
	ASSERT_TRUE(ts_ok_);
	for (int k = 1; k <= 6; k++) {
		SCOPED_TRACE("segment " + std::to_string(k));
		Inject(Full(0));
		rcv_ += Full();
		if (k % 2 == 0)
			ExpectAck();
		else
			ExpectNoTx();
	}
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_delack_tx), 0u);
}

// The delayed-ACK timer runs from the first segment not yet acknowledged:
// a second small segment 20 ms later does not push it back; the ACK at
// 40 ms covers both. The next segment starts a wait of its own.
TEST_F(TcpCwndAck, Established_SecondSmallSegment_TimerNotRestarted)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	Inject(Data("abc", 0));
	rcv_ += 3;
	ExpectNoTx();
	Advance(20);
	Inject(Data("de", 0));
	rcv_ += 2;
	ExpectNoTx();
	Advance(19);
	ExpectNoTx();
	Advance(1);
	ExpectAck();
	// 10 ms after that ACK, a third segment: its own 40 ms.
	Advance(10);
	Inject(Data("f", 0));
	rcv_ += 1;
	Advance(39);
	ExpectNoTx();
	Advance(1);
	ExpectAck();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_delack_tx), 2u);
	Advance(1000);
	ExpectNoTx();
}

// An answer carries the ACK and stops the timer: the delayed ACK it
// replaced is not sent at 40 ms, and data arriving after the answer waits
// 40 ms from its own arrival.
TEST_F(TcpCwndAck, Established_Piggybacked_TimerCancelledNextWaitFromScratch)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	Inject(Data("GET /a", 0));
	rcv_ += 6;
	ExpectNoTx();
	Advance(10);
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "200", 3), 3);
	Poll();
	TcpSeg s = ExpectSeg(ExpectOneTx(), "PA", O(snd_), P(rcv_), WinField(cfg_.tcp_rcvbuf));
	EXPECT_EQ(s.payload.size(), 3u);
	snd_ += 3;
	Advance(20);                 // 30 ms after the first segment
	Inject(Data("GET /b", 0));   // acknowledges our "200" too
	rcv_ += 6;
	ExpectNoTx();
	Advance(10);                 // the first segment's deadline: nothing
	ExpectNoTx();
	Advance(29);
	ExpectNoTx();
	Advance(1);                  // 40 ms after "GET /b"
	ExpectAck();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_delack_tx), 1u);
}

// RFC 5681 §4.2: an out-of-order segment is answered at once with a
// duplicate ACK, each of them; a segment that fills part of the hole is
// acknowledged at once (the ACK moves to the new RCV.NXT, the rest of the
// hole still missing), and so is the one that fills the rest.
TEST_F(TcpCwndAck, Established_HoleFilledInParts_EachPartAckedAtOnce)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	// In order, it waits (so what follows is not quick ACKs at work).
	Inject(Data("01234", 0));
	rcv_ += 5;
	ExpectNoTx();
	Advance(40);
	ExpectAck();

	// [10, 20) and [25, 30) beyond a hole at [0, 10): a duplicate ACK each.
	Inject(Data("ABCDEFGHIJ", 10));
	ExpectAck();
	Inject(Data("PQRST", 25));
	ExpectAck();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_delack_tx), 1u);
	// [0, 4): part of the hole; RCV.NXT moves 4 and is acknowledged now.
	Inject(Data("abcd", 0));
	rcv_ += 4;
	ExpectAck();
	// [4, 10): the rest; RCV.NXT jumps past [10, 20), to the next hole at 20.
	Inject(Data("efghij", 0));
	rcv_ += 6 + 10;
	ExpectAck();
	// [20, 25): the last hole; everything up to 30 in order.
	Inject(Data("KLMNO", 0));
	rcv_ += 5 + 5;
	ExpectAck();
	std::string want = "01234abcdefghijABCDEFGHIJKLMNOPQRST";
	EXPECT_EQ(std::string(ReceivedBytes().end() - (long)want.size(), ReceivedBytes().end()), want);
	Advance(1000);
	ExpectNoTx();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_delack_tx), 1u);
}

} // namespace
