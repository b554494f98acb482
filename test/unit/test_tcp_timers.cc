// SPDX-License-Identifier: BSD-3-Clause
// TCP timers, segment by segment and millisecond by millisecond: SYN and
// SYN-ACK retransmission, the retransmission timer (RFC 6298), Karn's rule,
// keepalive (RFC 1122 §4.2.3.6), zero-window probing, and ICMP errors that
// reach a connection (RFC 1122 §4.2.3.9, RFC 9293 MUST-56, RFC 5927, RFC 1191).
//
// A deadline is checked from both sides: nothing 1 ms before it, the segment
// at it. The fake clock starts on a tick boundary and every step here is a
// whole number of ticks unless a test says otherwise, so a timer re-armed when
// it fires starts from exactly its deadline.
#include "tcp_harness.h"

#include <algorithm>
#include <cerrno>
#include <cmath>

namespace {

constexpr uint64_t kSecond = 1000;   // in the milliseconds Advance() takes

class TcpTimers : public TcpTest {
protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		// Without RFC 7323 options unless a test turns them on: the RTT then
		// comes from one timed segment at a time (RFC 6298 §3).
		cfg_.tcp_timestamps = 0;
		cfg_.tcp_window_scale = 0;
	}

	// Nothing sent for ms - 1 milliseconds, then exactly one frame at ms.
	Bytes TxAt(uint64_t ms)
	{
		if (ms > 1) {
			Advance(ms - 1);
			std::vector<Bytes> early = TakeTx();
			EXPECT_EQ(early.size(), 0u)
				<< "sent before the deadline of " << ms << " ms: "
				<< (early.empty() ? std::string() : ToString(ParseTcp(early[0])));
		}
		Advance(1);
		return Resolved(ExpectOneTx());
	}

	// After hours of silence our ARP entry for the peer has aged out: the
	// segment waits behind a request, which the peer answers at once.
	Bytes Resolved(const Bytes &frame)
	{
		Parsed p = Parse(frame);

		if (!(p.arp && p.arp_op == 1 && p.tpa == kPeerIp))
			return frame;
		ExpectArpRequest(frame, kPeerIp);
		Inject(ArpReplyFrom(kPeerIp, kPeerMac));
		return ExpectOneTx();
	}

	// Nothing sent and no event for ms milliseconds.
	void Quiet(uint64_t ms)
	{
		Advance(ms);
		ExpectNoTx();
		ExpectNoEvents();
	}

	// The active open of OpenActive(), with the SYN-ACK arriving rtt_us after
	// the SYN left: the first RTT sample (RFC 6298 §2.2) is rtt_us.
	void OpenActiveAfter(uint64_t rtt_us)
	{
		ASSERT_NE(Connect(), nullptr);
		Poll();
		ts_ok_ = cfg_.tcp_timestamps != 0;
		sack_ok_ = cfg_.tcp_sack != 0;
		ws_ok_ = cfg_.tcp_window_scale != 0;
		ExpectSyn(ExpectOneTx());
		AdvanceUs(rtt_us);
		ExpectNoTx();
		Inject(PeerSynAck());
		snd_ = rcv_ = 1;
		ExpectSeg(ExpectOneTx(), "A", O(1), P(1), WinField(cfg_.tcp_rcvbuf));
		ExpectEvent(DTCP_EV_CONNECTED);
		ExpectState(DTCP_TCP_ESTABLISHED);
		ASSERT_FALSE(HasFailure()) << "active open";
		Mark();
	}

	// The peer's SYN-ACK to our SYN, offering back what we offered.
	Seg PeerSynAck() const
	{
		Seg sa = Seg().syn().ack().sport(rport_).dport(lport_).seq(P(0)).ack_(O(1));
		sa.win(kPeerWin).mss(kPeerMss);
		if (sack_ok_)
			sa.sack_ok();
		if (ts_ok_)
			sa.ts(peer_ts_, our_ts_);
		if (ws_ok_)
			sa.nop().ws(peer_ws_);
		return sa;
	}

	// n bytes queued on conn_, sent at the next poll. stream_[i] is the byte
	// at sequence number O(1 + i).
	void Queue(size_t n)
	{
		if (conn_ == nullptr) {
			ADD_FAILURE() << "no connection to queue " << n << " bytes on";
			return;
		}
		Bytes b = Pattern(n, (unsigned)stream_.size());
		EXPECT_EQ(dtcp_tcp_send_copy(w_, conn_, b.data(), (uint32_t)n), (int)n);
		stream_.insert(stream_.end(), b.begin(), b.end());
	}

	// A segment of ours carrying stream bytes [from, from + len) at O(from).
	TcpSeg ExpectData(const Bytes &frame, const std::string &flags, uint32_t from, size_t len)
	{
		if (frame.empty()) {
			ADD_FAILURE() << "no segment where [" << flags << "] O(" << from << ") len "
				      << len << " was expected";
			return TcpSeg();
		}
		TcpSeg s = ExpectSeg(frame, flags, O(from), P(rcv_), WinField(cfg_.tcp_rcvbuf));
		EXPECT_EQ(s.payload.size(), len) << ToString(s);
		if (s.payload.size() == len && from >= 1 && from - 1 + len <= stream_.size()) {
			EXPECT_TRUE(std::equal(s.payload.begin(), s.payload.end(),
					       stream_.begin() + (long)(from - 1)))
				<< "payload is not the stream's bytes at O(" << from << ")";
		}
		return s;
	}

	// The peer acknowledges O(upto) (window kPeerWin unless given).
	void AckUpTo(uint32_t upto, uint16_t win = kPeerWin)
	{
		snd_ = upto;
		Inject(PeerAck().win(win));
	}

	// An ICMP error from the peer about a segment of ours (RFC 792): type,
	// code, the next-hop MTU for fragmentation-needed (RFC 1191 §4), then our
	// IPv4 header (our address to the peer's, protocol 6, DF as we send) and
	// the first 8 bytes of our TCP header: ports and sequence number.
	Bytes IcmpAbout(uint8_t type, uint8_t code, uint32_t seq, uint16_t mtu,
			uint16_t sport, uint16_t dport) const
	{
		Bytes tcp8 = { (uint8_t)(sport >> 8), (uint8_t)sport, (uint8_t)(dport >> 8),
			       (uint8_t)dport,        (uint8_t)(seq >> 24), (uint8_t)(seq >> 16),
			       (uint8_t)(seq >> 8),   (uint8_t)seq };
		Ipv4Opts o;
		o.frag = 0x4000;
		o.total_len = 1500;    // the datagram quoted was longer than what is quoted
		Bytes quoted = Ipv4Packet(kOurIp, kPeerIp, 6, tcp8, o);
		Bytes icmp = { type, code, 0, 0, 0, 0, (uint8_t)(mtu >> 8), (uint8_t)mtu };

		icmp.insert(icmp.end(), quoted.begin(), quoted.end());
		uint16_t ck = RefCksum(icmp.data(), icmp.size());
		icmp[2] = (uint8_t)(ck >> 8);
		icmp[3] = (uint8_t)ck;
		return EthFrame(kOurMac, kPeerMac, 0x0800, Ipv4Packet(kPeerIp, kOurIp, 1, icmp));
	}
	Bytes IcmpAbout(uint8_t type, uint8_t code, uint32_t seq, uint16_t mtu = 0) const
	{
		return IcmpAbout(type, code, seq, mtu, lport_, rport_);
	}

	// What the counters say an ICMP error about TCP did, beside rx_frames.
	static Deltas IcmpMoved(const char *kind, const char *end, bool soft = false)
	{
		Deltas d = { { "ip_rx", 1 }, { "icmp_rx", 1 }, { kind, 1 }, { end, 1 } };
		if (soft)
			d["tcp_soft_error"] = 1;
		return d;
	}

	uint64_t CtrSinceMark(enum dtcp_ctr c) const { return Ctr(c) - mark_[c]; }

	Bytes stream_;
};

// --- SYN and SYN-ACK retransmission (RFC 6298 §5.5, §5.7; RFC 9293 §3.8.1) -------

// The SYN goes out at t0 and again at each time in rexmit_ms (from t0); the
// connection ends with -ETIMEDOUT at give_up_ms, silently.
class TcpSynBackoff : public TcpTimers {
protected:
	void SetUp() override
	{
		TcpTimers::SetUp();
		cfg_.tcp_timestamps = 1;     // every retransmission carries a new TSval
		cfg_.tcp_window_scale = 1;
	}

	void ExpectSynBackoff(const std::vector<uint64_t> &rexmit_ms, uint64_t give_up_ms)
	{
		ASSERT_NE(Connect(), nullptr);
		Poll();
		TcpSeg first = ExpectSyn(ExpectOneTx());
		uint32_t last_tsval = first.tsval;
		uint64_t at = 0;

		ExpectNoEvents();
		for (size_t i = 0; i < rexmit_ms.size(); i++) {
			SCOPED_TRACE("SYN retransmission " + std::to_string(i + 1) + " at " +
				     std::to_string(rexmit_ms[i]) + " ms");
			TcpSeg s = ExpectSyn(TxAt(rexmit_ms[i] - at));
			at = rexmit_ms[i];
			// The same SYN: ISS, window and options (ExpectSyn); only TSval moves on.
			EXPECT_EQ(s.seq, first.seq);
			EXPECT_EQ(s.win, first.win);
			EXPECT_GT((int32_t)(s.tsval - last_tsval), 0) << "TSval of a retransmission";
			last_tsval = s.tsval;
			EXPECT_EQ(Info().retransmits, i + 1);
			ExpectState(DTCP_TCP_SYN_SENT);
			ExpectNoEvents();
			ASSERT_FALSE(HasFatalFailure());
		}
		Advance(give_up_ms - at - 1);
		ExpectNoTx();
		ExpectNoEvents();
		Advance(1);
		ExpectNoTx();
		Event e = ExpectEvent(DTCP_EV_CLOSED);
		EXPECT_EQ(e.error, -ETIMEDOUT);
		EXPECT_EQ(conn_, nullptr);
		EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_timeout_syn), 1u);
		EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tx_syn), rexmit_ms.size() + 1);
		EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), rexmit_ms.size());
		EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tx_rst), 0u);
		uint64_t counts[DTCP_TCP_STATE_MAX];
		dtcp_tcp_state_counts(w_, counts);
		EXPECT_EQ(counts[DTCP_TCP_SYN_SENT], 0u);
		// Gone for good: nothing more is sent.
		Quiet(10 * 60 * kSecond);
	}
};

// rto_init 1 s doubling: 1, 3, 7, 15, 31, 63 s. The seventh wait would be 64 s
// but rto_max_ms (60 s, the least RFC 6298 §5.5 allows for a cap) makes it 60.
TEST_F(TcpSynBackoff, SynSent_NoAnswer_BacksOffThenTimesOut)
{
	cfg_.tcp_syn_retries = 6;
	cfg_.tcp_rto_max_ms = 60000;
	Start();
	ExpectSynBackoff({ 1000, 3000, 7000, 15000, 31000, 63000 }, 123000);
}

// RFC 1122 §4.2.3.5 (RFC 9293 §3.8.3): R2 for a SYN MUST give at least
// 3 minutes of retransmission; only the application may give up sooner.
TEST_F(TcpSynBackoff, SynSent_DefaultConfig_SynRetriedForAtLeast3Minutes)
{
	Start();
	ASSERT_NE(Connect(), nullptr);
	Poll();
	ExpectSyn(ExpectOneTx());
	size_t syns = 0;
	for (uint64_t t = 1; t <= 180; t++) {
		Advance(kSecond);
		for (const Bytes &f : TakeTx()) {
			ExpectSyn(f);
			syns++;
		}
		if (!Events().empty()) {
			ADD_FAILURE() << "gave up after " << t << " s: " << EventsString(TakeEvents());
			break;
		}
	}
	EXPECT_NE(conn_, nullptr);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_timeout_syn), 0u);
	EXPECT_GE(syns, 6u);
}

TEST_F(TcpSynBackoff, SynSent_RtoMaxAbove64s_GivesUpAt127s)
{
	cfg_.tcp_syn_retries = 6;
	cfg_.tcp_rto_max_ms = 120000;
	Start();
	ExpectSynBackoff({ 1000, 3000, 7000, 15000, 31000, 63000 }, 127000);
}

TEST_F(TcpSynBackoff, SynSent_TwoSynRetries_GivesUpAfterTheSecond)
{
	cfg_.tcp_syn_retries = 2;
	Start();
	ExpectSynBackoff({ 1000, 3000 }, 7000);
}

// synack_retries 5: 1, 3, 7, 15, 31 s, given up at 63 s. Nobody hears of it:
// the listener never offered the connection.
TEST_F(TcpSynBackoff, SynReceived_NoAck_SynAckBacksOffThenConnectionGoes)
{
	Start();
	ASSERT_EQ(cfg_.tcp_synack_retries, 5u);
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg syn = PeerSyn();
	TcpSeg offered = ParseTcp(Frame(syn));
	Inject(syn);
	TcpSeg first = ExpectSynAck(ExpectOneTx(), offered);
	uint64_t at = 0;

	for (uint64_t t : { 1000, 3000, 7000, 15000, 31000 }) {
		SCOPED_TRACE("SYN-ACK retransmission at " + std::to_string(t) + " ms");
		TcpSeg s = ExpectSynAck(TxAt(t - at), offered);
		at = t;
		EXPECT_EQ(s.seq, first.seq);
		EXPECT_EQ(s.ack, first.ack);
		EXPECT_EQ(s.win, first.win);
		ExpectNoEvents();
	}
	Advance(63000 - at - 1);
	ExpectNoTx();
	Advance(1);
	ExpectNoTx();
	ExpectNoEvents();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_timeout_syn), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tx_syn), 6u);
	uint64_t counts[DTCP_TCP_STATE_MAX];
	dtcp_tcp_state_counts(w_, counts);
	EXPECT_EQ(counts[DTCP_TCP_SYN_RECEIVED], 0u);
	EXPECT_EQ(counts[DTCP_TCP_ESTABLISHED], 0u);

	// The handshake's ACK now finds only the listener: RST (§3.10.7.2).
	ts_ok_ = true;
	snd_ = rcv_ = 1;
	Inject(PeerAck());
	ExpectRst(ExpectOneTx(), O(1));
	ExpectNoEvents();
	EXPECT_EQ(accepted_.size(), 0u);
	Quiet(10 * 60 * kSecond);
}

// --- The retransmission timer (RFC 6298 §5, RFC 5681 §3.1) --------------------------

// SRTT 100 ms, RTTVAR 50 ms: RTO = 100 + 4 * 50 = 300 ms, then 600, 1200, and
// 2000 (rto_max_ms) for the other retransmissions; after retries (15) the
// connection is given up. Each one is SND.UNA's segment alone: cwnd is one
// segment and ssthresh max(FlightSize / 2, 2 * SMSS) (RFC 5681 eq. 4).
TEST_F(TcpTimers, Established_DataUnacked_RtoBacksOffToMaxThenTimesOut)
{
	cfg_.tcp_rto_max_ms = 2000;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActiveAfter(100000));
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.srtt_us, 100000u);
	EXPECT_EQ(i.rttvar_us, 50000u);
	EXPECT_EQ(i.rto_ms, 300u);
	EXPECT_EQ(i.snd_mss, 1460);
	EXPECT_EQ(i.cwnd, 14600u) << "RFC 6928 initial window";

	Queue(14600);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 10u);
	for (size_t k = 0; k < tx.size(); k++)
		ExpectData(tx[k], k == 9 ? "PA" : "A", 1 + 1460 * (uint32_t)k, 1460);

	uint32_t rto = 300;
	ASSERT_EQ(cfg_.tcp_retries, 15u);
	for (uint32_t n = 1; n <= cfg_.tcp_retries; n++) {
		SCOPED_TRACE("retransmission " + std::to_string(n) + " after " + std::to_string(rto) +
			     " ms");
		ExpectData(TxAt(rto), "A", 1, 1460);
		rto = std::min(2 * rto, cfg_.tcp_rto_max_ms);
		i = Info();
		EXPECT_EQ(i.retransmits, n);
		EXPECT_EQ(i.total_retransmits, n);
		EXPECT_EQ(i.rto_ms, rto);
		EXPECT_EQ(i.snd_una, O(1));
		EXPECT_EQ(i.snd_nxt, O(1461)) << "go back to SND.UNA, one segment";
		EXPECT_EQ(i.cwnd, 1460u) << "loss window: one segment";
		EXPECT_EQ(i.ssthresh, 7300u) << "max(FlightSize / 2, 2 * SMSS)";
		ExpectNoEvents();
		ASSERT_FALSE(HasFatalFailure());
	}
	Advance(rto - 1);
	ExpectNoTx();
	ExpectNoEvents();
	Advance(1);
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -ETIMEDOUT);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_timeout_data), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 15u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rexmit), 15u);
	Quiet(10 * 60 * kSecond);
}

// After a timeout we resend from SND.UNA, but a bare ACK still carries the
// highest SEQ sent: the peer may have received more than SND.UNA (its ACK
// was lost), and an ACK below its RCV.NXT would be unacceptable to it and
// never read (§3.10.7.4), which between two recovering peers is a deadlock.
TEST_F(TcpTimers, Established_AckWhileResending_CarriesHighestSeqSent)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActiveAfter(100000));
	Queue(3 * 1460);
	Poll();
	ASSERT_EQ(TakeTx().size(), 3u);
	ExpectData(TxAt(300), "A", 1, 1460);
	EXPECT_EQ(Info().snd_nxt, O(1461));
	// One byte from the peer that acknowledges nothing new.
	Inject(Seg().ack().seq(P(rcv_)).ack_(O(1)).win(kPeerWin).data("x"));
	rcv_ += 1;
	ExpectSeg(ExpectOneTx(), "A", O(1 + 3 * 1460), P(rcv_), WinField(cfg_.tcp_rcvbuf));
	ExpectEvent(DTCP_EV_DATA);
}

// RFC 5681 §3.2 and RFC 6582: the third duplicate ACK resends the first
// unacknowledged segment at once and enters fast recovery (ssthresh half
// the flight, cwnd ssthresh + 3 SMSS); a partial ACK resends the next hole
// and deflates; a full ACK ends recovery with cwnd back at ssthresh.
TEST_F(TcpTimers, Established_ThreeDupAcks_FastRetransmitThenNewRenoRecovery)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActiveAfter(100000));
	Queue(5 * 1460);
	Poll();
	ASSERT_EQ(TakeTx().size(), 5u);
	AckUpTo(1461);
	ExpectNoTx();
	for (int k = 1; k <= 2; k++) {
		Inject(PeerAck());
		ExpectNoTx();
	}
	Inject(PeerAck());
	ExpectData(ExpectOneTx(), "A", 1461, 1460);
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.ssthresh, 2920u) << "max(FlightSize / 2, 2 * SMSS), FlightSize 4 segments";
	EXPECT_EQ(i.cwnd, 2920u + 3 * 1460) << "ssthresh + 3 * SMSS";
	EXPECT_EQ(i.snd_nxt, O(1 + 5 * 1460)) << "nothing rewound";
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_fast_retransmit), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_dupack_rx), 3u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 0u);
	// A fourth duplicate inflates the window by one segment, nothing to send.
	Inject(PeerAck());
	ExpectNoTx();
	EXPECT_EQ(Info().cwnd, 2920u + 4 * 1460);
	// Partial ACK: the next hole goes at once; cwnd less what was acked, plus one.
	AckUpTo(2921);
	ExpectData(ExpectOneTx(), "A", 2921, 1460);
	EXPECT_EQ(Info().cwnd, 2920u + 4 * 1460);
	// Full ACK: recovery over, cwnd = min(ssthresh, FlightSize + SMSS).
	AckUpTo(1 + 5 * 1460);
	ExpectNoTx();
	EXPECT_EQ(Info().cwnd, 2920u);
	Quiet(10 * kSecond);
}

// RFC 6298 §5.3: an ACK of new data restarts the timer with the current RTO;
// §5.2: once everything is acknowledged the timer is off.
TEST_F(TcpTimers, Established_AckOfNewData_RestartsTimerThenStopsIt)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActiveAfter(100000));
	Queue(2920);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 2u);
	ExpectData(tx[0], "A", 1, 1460);
	ExpectData(tx[1], "PA", 1461, 1460);

	Advance(100);
	AckUpTo(1461);
	ExpectNoTx();
	// The first segment was timed: R = 100 ms, RTTVAR = 3/4 * 50 ms, RTO 250 ms.
	EXPECT_EQ(Info().srtt_us, 100000u);
	EXPECT_EQ(Info().rttvar_us, 37500u);
	EXPECT_EQ(Info().rto_ms, 250u);
	// 250 ms from the ACK, not 300 ms from the send.
	ExpectData(TxAt(250), "PA", 1461, 1460);
	AckUpTo(2921);
	Quiet(10 * 60 * kSecond);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_rto), 1u);
}

// RFC 6298 §5.3 restarts the timer only for an ACK of new data: a duplicate
// ACK leaves it running from the first transmission.
TEST_F(TcpTimers, Established_DuplicateAck_TimerNotRestarted)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActiveAfter(100000));
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	Advance(150);
	AckUpTo(1);
	ExpectNoTx();
	Advance(100);
	AckUpTo(1);
	ExpectNoTx();
	ExpectData(TxAt(50), "PA", 1, 100);            // 300 ms after the send
	EXPECT_EQ(Info().srtt_us, 100000u);
}

// --- Karn's rule and the RFC 6298 arithmetic ---------------------------------------

// RFC 6298 §3 (Karn): the ACK of a retransmitted segment is no sample, and
// §5.7 the backed-off RTO stays until a sample from new data is taken.
TEST_F(TcpTimers, Established_AckOfRetransmission_NoSampleBackoffKept)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActiveAfter(100000));
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	ExpectData(TxAt(300), "PA", 1, 100);
	EXPECT_EQ(Info().rto_ms, 600u);
	EXPECT_EQ(Info().cwnd, 1460u);
	EXPECT_EQ(Info().ssthresh, 2920u) << "max(FlightSize / 2 = 50, 2 * SMSS)";

	Advance(50);
	AckUpTo(101);
	ExpectNoTx();
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.srtt_us, 100000u) << "no sample from a retransmission's ACK";
	EXPECT_EQ(i.rttvar_us, 50000u);
	EXPECT_EQ(i.rto_ms, 600u) << "the backed-off RTO is kept";

	// New data: timed, and its timer runs with the backed-off 600 ms.
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 101, 100);
	Advance(400);
	ExpectNoTx();
	AckUpTo(201);
	ExpectNoTx();
	// R = 400 ms: RTTVAR = 3/4 * 50 + 1/4 * 300 = 112.5 ms,
	// SRTT = 7/8 * 100 + 1/8 * 400 = 137.5 ms, RTO = 137.5 + 450 = 587.5 -> 588 ms.
	i = Info();
	EXPECT_EQ(i.srtt_us, 137500u);
	EXPECT_EQ(i.rttvar_us, 112500u);
	EXPECT_EQ(i.rto_ms, 588u);

	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 201, 100);
	ExpectData(TxAt(588), "PA", 201, 100);
	AckUpTo(301);
	Quiet(60 * kSecond);
}

// Without timestamps one segment is timed at a time (RFC 6298 §3): a segment
// sent while another is timed gives no sample when it is acknowledged.
TEST_F(TcpTimers, Established_TimestampsOff_OneSegmentTimedAtATime)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActiveAfter(100000));
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);       // timed
	Advance(50);
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 101, 100);     // not timed
	Advance(150);
	AckUpTo(101);                                  // R = 200 ms
	ExpectNoTx();
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.srtt_us, 112500u);
	EXPECT_EQ(i.rttvar_us, 62500u);
	EXPECT_EQ(i.rto_ms, 363u);

	Advance(10);
	AckUpTo(201);                                  // would be R = 160 ms if timed
	ExpectNoTx();
	i = Info();
	EXPECT_EQ(i.srtt_us, 112500u) << "the second segment was not timed";
	EXPECT_EQ(i.rttvar_us, 62500u);

	// The next segment is timed again: R = 100 ms.
	Advance(10);
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 201, 100);
	Advance(100);
	AckUpTo(301);
	i = Info();
	EXPECT_NEAR(i.srtt_us, 110937.5, 1.0);         // 7/8 * 112.5 + 1/8 * 100 ms
	EXPECT_NEAR(i.rttvar_us, 50000.0, 1.0);        // 3/4 * 62.5 + 1/4 * 12.5 ms
	EXPECT_EQ(i.rto_ms, 311u);
}

// RFC 6298 §2.2 and §2.3 over a run of samples, to the microsecond:
// first SRTT = R, RTTVAR = R/2; then RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|,
// SRTT = 7/8 SRTT + 1/8 R; RTO = SRTT + max(G, 4 RTTVAR), never less (rounded up).
TEST_F(TcpTimers, Established_RttSamples_SmoothedAsRfc6298)
{
	Start();
	const uint64_t samples_us[] = { 100000, 200000, 80000, 300000, 123457, 5000, 5000 };
	double srtt = samples_us[0], rttvar = samples_us[0] / 2.0;

	ASSERT_NO_FATAL_FAILURE(OpenActiveAfter(samples_us[0]));
	for (size_t k = 0; k < sizeof(samples_us) / sizeof(samples_us[0]); k++) {
		uint64_t r = samples_us[k];

		SCOPED_TRACE("sample " + std::to_string(k) + ": R = " + std::to_string(r) + " us");
		if (k > 0) {
			rttvar = 0.75 * rttvar + 0.25 * std::fabs(srtt - (double)r);
			srtt = 0.875 * srtt + 0.125 * (double)r;
			Queue(10);
			Poll();
			ExpectData(ExpectOneTx(), "PA", snd_, 10);
			AdvanceUs(r);
			AckUpTo(snd_ + 10);
			ExpectNoTx();
		}
		double rto_us = srtt + std::max(1000.0, 4 * rttvar);
		uint32_t want_rto = std::max<uint32_t>(cfg_.tcp_rto_min_ms,
						       (uint32_t)std::ceil(rto_us / 1000));
		struct dtcp_conn_info i = Info();
		EXPECT_NEAR(i.srtt_us, srtt, 3.0);
		EXPECT_NEAR(i.rttvar_us, rttvar, 3.0);
		EXPECT_EQ(i.rto_ms, want_rto);
		ASSERT_FALSE(HasFatalFailure());
	}
	// The last values, written out: 300 363 329 489 408 450 463 ms.
	EXPECT_EQ(Info().rto_ms, 463u);
}

// RTO = 10 + 4 * 5 = 30 ms is raised to rto_min_ms (200).
TEST_F(TcpTimers, Established_RtoBelowMin_RaisedToRtoMin)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActiveAfter(10000));
	EXPECT_EQ(Info().srtt_us, 10000u);
	EXPECT_EQ(Info().rttvar_us, 5000u);
	EXPECT_EQ(Info().rto_ms, 200u);
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	ExpectData(TxAt(200), "PA", 1, 100);
	ExpectData(TxAt(400), "PA", 1, 100);
}

// With no floor, the clock granularity term: R = 100 us gives
// RTO = 100 + max(G = 1000, 200) us = 1.1 ms, which must not fire at 1 ms.
TEST_F(TcpTimers, Established_RttBelowGranularity_RtoTakesG)
{
	cfg_.tcp_rto_min_ms = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActiveAfter(100));
	EXPECT_EQ(Info().srtt_us, 100u);
	EXPECT_EQ(Info().rttvar_us, 50u);
	EXPECT_EQ(Info().rto_ms, 2u);
	AdvanceUs(900);                                // back on a tick boundary
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	ExpectData(TxAt(2), "PA", 1, 100);
	ExpectData(TxAt(4), "PA", 1, 100);
}

// RFC 6298 §5.7: the SYN timed out and no sample was taken (Karn), with an
// RTO below 3 s: it MUST be 3 s once data transmission begins.
TEST_F(TcpTimers, SynSent_SynRetransmitted_DataRtoReinitializedTo3s)
{
	Start();
	ASSERT_NE(Connect(), nullptr);
	Poll();
	ExpectSyn(ExpectOneTx());
	ExpectSyn(TxAt(1000));
	Advance(100);
	Inject(PeerSynAck());
	snd_ = rcv_ = 1;
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1), WinField(cfg_.tcp_rcvbuf));
	ExpectEvent(DTCP_EV_CONNECTED);
	EXPECT_EQ(Info().srtt_us, 0u) << "no sample from a retransmitted SYN";
	EXPECT_EQ(Info().rto_ms, 3000u);

	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	ExpectData(TxAt(3000), "PA", 1, 100);
}

TEST_F(TcpTimers, SynReceived_SynAckRetransmitted_DataRtoReinitializedTo3s)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg syn = PeerSyn();
	TcpSeg offered = ParseTcp(Frame(syn));
	Inject(syn);
	ExpectSynAck(ExpectOneTx(), offered);
	ExpectSynAck(TxAt(1000), offered);
	Advance(100);
	snd_ = rcv_ = 1;
	Inject(PeerAck());
	ExpectNoTx();
	ExpectEvent(DTCP_EV_ACCEPTABLE);
	ASSERT_EQ(accepted_.size(), 1u);
	conn_ = accepted_.back();
	ExpectState(DTCP_TCP_ESTABLISHED);
	EXPECT_EQ(Info().srtt_us, 0u) << "no sample from a retransmitted SYN-ACK";
	EXPECT_EQ(Info().rto_ms, 3000u);

	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	ExpectData(TxAt(3000), "PA", 1, 100);
}

// --- Keepalive (RFC 1122 §4.2.3.6) --------------------------------------------------

class TcpKeepalive : public TcpTimers {
protected:
	// <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>, no data, our window.
	void ExpectProbe(const Bytes &frame)
	{
		TcpSeg s = ExpectSeg(frame, "A", O(snd_ - 1), P(rcv_), WinField(cfg_.tcp_rcvbuf));
		EXPECT_EQ(s.payload.size(), 0u) << "a probe carries no data";
	}

	// The peer's answer to a probe: its RCV.NXT, acknowledging SND.NXT.
	void Answer()
	{
		Inject(PeerAck());
		ExpectNoTx();
	}
};

// MUST default to off: nothing in 3 hours of silence.
TEST_F(TcpKeepalive, Established_KeepaliveDefault_OffNoProbe)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	Quiet(3 * 3600 * kSecond);
	ExpectState(DTCP_TCP_ESTABLISHED);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_keepalive_tx), 0u);
}

// The first probe exactly idle_s after the last segment received; an answered
// probe restarts the idle time.
TEST_F(TcpKeepalive, Established_Idle_ProbeAtIdleAnsweredWaitsIdleAgain)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	dtcp_conn_set_keepalive(w_, conn_, true, 10, 2, 3);
	Poll();
	ExpectNoTx();
	ExpectProbe(TxAt(10 * kSecond));
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_keepalive_tx), 1u);
	Advance(500);
	Answer();
	// Not at the 2 s interval: 10 s after the answer.
	ExpectProbe(TxAt(10 * kSecond));
	Answer();
	ExpectProbe(TxAt(10 * kSecond));
	ExpectNoEvents();
	ExpectState(DTCP_TCP_ESTABLISHED);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_keepalive_tx), 3u);
}

// Unanswered: a probe every intvl_s; cnt probes unanswered, then at the next
// interval RST and -ETIMEDOUT.
TEST_F(TcpKeepalive, Established_ProbesUnanswered_ResetAfterCount)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	dtcp_conn_set_keepalive(w_, conn_, true, 10, 2, 3);
	ExpectProbe(TxAt(10 * kSecond));
	ExpectProbe(TxAt(2 * kSecond));
	ExpectProbe(TxAt(2 * kSecond));
	ExpectNoEvents();
	ExpectState(DTCP_TCP_ESTABLISHED);
	ExpectRst(TxAt(2 * kSecond), O(1));
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -ETIMEDOUT);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_keepalive_tx), 3u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_timeout_keepalive), 1u);
	Quiet(3600 * kSecond);
}

// Any segment from the peer restarts the idle time and the count of
// unanswered probes.
TEST_F(TcpKeepalive, Established_SegmentFromPeer_RestartsIdleAndCount)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	dtcp_conn_set_keepalive(w_, conn_, true, 10, 2, 3);
	Advance(6 * kSecond);
	Inject(PeerAck().psh().data("hi"));
	rcv_ += 2;
	ExpectSeg(ExpectOneTx(), "A", O(1), P(rcv_), WinField(cfg_.tcp_rcvbuf));
	ExpectEvent(DTCP_EV_DATA);
	// 10 s after the data, not after the open.
	ExpectProbe(TxAt(10 * kSecond));
	ExpectProbe(TxAt(2 * kSecond));
	Advance(1 * kSecond);
	Answer();
	// Two probes went unanswered before; the count starts again.
	ExpectProbe(TxAt(10 * kSecond));
	ExpectProbe(TxAt(2 * kSecond));
	ExpectProbe(TxAt(2 * kSecond));
	ExpectNoEvents();
	ExpectRst(TxAt(2 * kSecond), O(1));
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -ETIMEDOUT);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_keepalive_tx), 5u);
}

TEST_F(TcpKeepalive, Established_KeepaliveTurnedOff_NoProbe)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	dtcp_conn_set_keepalive(w_, conn_, true, 10, 2, 3);
	Advance(5 * kSecond);
	dtcp_conn_set_keepalive(w_, conn_, false, 0, 0, 0);
	Quiet(3600 * kSecond);
	ExpectState(DTCP_TCP_ESTABLISHED);
}

// [tcp] keepalive = 1 and nothing per connection: RFC 1122's 7200 s idle,
// 75 s between probes, 9 probes.
TEST_F(TcpKeepalive, Established_KeepaliveConfigured_Rfc1122Defaults)
{
	cfg_.tcp_keepalive = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	ExpectProbe(TxAt(7200 * kSecond));
	for (int n = 2; n <= 9; n++) {
		SCOPED_TRACE("probe " + std::to_string(n));
		ExpectProbe(TxAt(75 * kSecond));
	}
	ExpectNoEvents();
	ExpectRst(TxAt(75 * kSecond), O(1));
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -ETIMEDOUT);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_keepalive_tx), 9u);
}

// --- Zero window (RFC 9293 §3.8.6.1; RFC 1122 §4.2.2.17) -----------------------------
// The persist timer is the retransmission timer for now; these tests pin down
// what it does.

class TcpZeroWindow : public TcpTimers {
protected:
	// Open (RTO 200 ms: the RTT of the handshake is 0), then the peer's window closes.
	void OpenThenZeroWindow()
	{
		ASSERT_NO_FATAL_FAILURE(OpenActive());
		ASSERT_EQ(Info().rto_ms, 200u);
		AckUpTo(1, 0);
		ExpectNoTx();
		ASSERT_EQ(Info().snd_wnd, 0u);
	}
};

// Nothing goes into a zero window until the retransmission timer expires;
// then one byte past the window, again and again with the timer backed off.
TEST_F(TcpZeroWindow, ZeroWindow_DataQueued_OneByteProbeAtRtoThenBackoff)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThenZeroWindow());
	Queue(100);
	Poll();
	ExpectNoTx();
	ExpectData(TxAt(200), "A", 1, 1);
	for (uint64_t rto : { 400, 800, 1600, 3200 }) {
		SCOPED_TRACE("probe after " + std::to_string(rto) + " ms");
		AckUpTo(1, 0);                // the byte is not taken
		ExpectNoTx();
		ExpectData(TxAt(rto), "A", 1, 1);
		ExpectState(DTCP_TCP_ESTABLISHED);
	}
	ExpectNoEvents();
}

// The window opens before any probe: the queued data goes at once.
TEST_F(TcpZeroWindow, ZeroWindow_WindowOpensBeforeProbe_DataFlows)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThenZeroWindow());
	Queue(100);
	Poll();
	ExpectNoTx();
	Advance(100);
	AckUpTo(1);
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	AckUpTo(101);
	Quiet(60 * kSecond);
}

// The window opens after a probe whose byte was not taken: the rest of the
// data goes at once, and the probe's byte when the timer expires.
TEST_F(TcpZeroWindow, ZeroWindow_WindowOpensAfterProbe_DataFlows)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThenZeroWindow());
	Queue(100);
	Poll();
	ExpectData(TxAt(200), "A", 1, 1);
	Advance(100);
	AckUpTo(1);
	ExpectData(ExpectOneTx(), "PA", 2, 99);
	ExpectData(TxAt(300), "PA", 1, 100);           // 400 ms after the probe
	AckUpTo(101);
	Quiet(60 * kSecond);
	ExpectState(DTCP_TCP_ESTABLISHED);
}

// Data sent once the window opens is first sent then: its retransmission is
// RTO after that (RFC 6298 §5.1), not when a probe would have gone.
TEST_F(TcpZeroWindow, ZeroWindow_WindowOpensBeforeProbe_RtoCountsFromSend)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThenZeroWindow());
	Queue(100);
	Poll();
	ExpectNoTx();
	Advance(150);
	AckUpTo(1);
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	ExpectData(TxAt(200), "PA", 1, 100);
}

// As long as the peer answers the probes, the connection stays open
// (RFC 1122 §4.2.2.17, RFC 9293 §3.8.6.1): probes are not retransmissions
// that run out.
TEST_F(TcpZeroWindow, ZeroWindow_ProbesAnswered_ConnectionStaysOpen)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThenZeroWindow());
	Queue(100);
	Poll();
	uint64_t wait = 200;
	for (int n = 1; n <= 25; n++) {
		SCOPED_TRACE("probe " + std::to_string(n) + " after " + std::to_string(wait) + " ms");
		ExpectData(TxAt(wait), "A", 1, 1);
		ExpectNoEvents();
		ASSERT_NE(conn_, nullptr) << "closed while the peer answers every probe";
		AckUpTo(1, 0);
		ExpectNoTx();
		wait = std::min<uint64_t>(2 * wait, cfg_.tcp_rto_max_ms);
	}
	ExpectState(DTCP_TCP_ESTABLISHED);
	// And then the window opens.
	AckUpTo(1);
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 1u);
	ExpectData(tx[0], "PA", 2, 99);
}

// --- ICMP errors (RFC 1122 §4.2.3.9, RFC 9293 §3.9.1.5, RFC 5927, RFC 1191) -------

// MUST-56: unreachable (net, host, port) and time exceeded never abort a
// synchronized connection; they are kept for the application to see.
TEST_F(TcpTimers, Established_IcmpSoftErrors_RecordedNeverAbort)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	struct {
		uint8_t type, code;
		const char *counter;
		int error;
	} errors[] = {
		{ 3, 0, "icmp_err_unreach", -ENETUNREACH },
		{ 3, 1, "icmp_err_unreach", -EHOSTUNREACH },
		{ 11, 0, "icmp_err_time_exceeded", -EHOSTUNREACH },
		{ 3, 3, "icmp_err_unreach", -ECONNREFUSED },   // only soft once established
		{ 3, 2, "icmp_err_unreach", -ECONNREFUSED },
	};

	for (const auto &e : errors) {
		SCOPED_TRACE(std::to_string(e.type) + "/" + std::to_string(e.code));
		EXPECT_TRUE(Dropped(IcmpAbout(e.type, e.code, O(1)),
				    IcmpMoved(e.counter, "icmp_err_tcp", true)));
		ExpectNoEvents();
		ASSERT_NE(conn_, nullptr) << "a soft error ended the connection";
		ExpectState(DTCP_TCP_ESTABLISHED);
		EXPECT_EQ(Info().soft_error, e.error);
	}
	// The connection goes on.
	AckUpTo(101);
	ExpectNoTx();
	ExpectState(DTCP_TCP_ESTABLISHED);
	Queue(10);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 101, 10);
	ExpectNoEvents();
}

// A connection that times out after a soft error reports that error.
TEST_F(TcpTimers, Established_SoftErrorThenRetriesRunOut_ClosedWithSoftError)
{
	cfg_.tcp_retries = 2;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	EXPECT_TRUE(Dropped(IcmpAbout(3, 1, O(1)),
			    IcmpMoved("icmp_err_unreach", "icmp_err_tcp", true)));
	ExpectData(TxAt(200), "PA", 1, 100);
	ExpectData(TxAt(400), "PA", 1, 100);
	ExpectNoEvents();
	Advance(799);
	ExpectNoTx();
	ExpectNoEvents();
	Advance(1);
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -EHOSTUNREACH);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timeout_data), 1u);
}

// In SYN-SENT too, host unreachable is soft (RFC 1122 §4.2.3.9): the SYN is
// retried, and the timeout carries the error.
TEST_F(TcpTimers, SynSent_HostUnreachable_SoftThenTimeoutCarriesIt)
{
	cfg_.tcp_syn_retries = 1;
	Start();
	ASSERT_NE(Connect(), nullptr);
	Poll();
	ExpectSyn(ExpectOneTx());
	EXPECT_TRUE(Dropped(IcmpAbout(3, 1, O(0)),
			    IcmpMoved("icmp_err_unreach", "icmp_err_tcp", true)));
	ExpectState(DTCP_TCP_SYN_SENT);
	EXPECT_EQ(Info().soft_error, -EHOSTUNREACH);
	ExpectNoEvents();
	ExpectSyn(TxAt(1000));
	Advance(1999);
	ExpectNoTx();
	ExpectNoEvents();
	Advance(1);
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -EHOSTUNREACH);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_timeout_syn), 1u);
}

// Protocol and port unreachable answer a SYN: a hard error, the open is refused.
TEST_F(TcpTimers, SynSent_PortOrProtocolUnreachable_Refused)
{
	Start();
	for (uint8_t code : { 3, 2 }) {
		SCOPED_TRACE("code " + std::to_string(code));
		ASSERT_NE(Connect(), nullptr);
		Poll();
		ExpectSyn(ExpectOneTx());
		Mark();
		Inject(IcmpAbout(3, code, O(0)));
		ExpectNoTx();
		EXPECT_EQ(Moved(), (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "icmp_rx", 1 },
					    { "icmp_err_unreach", 1 }, { "icmp_err_tcp", 1 },
					    { "tcp_refused", 1 }, { "tcp_events", 1 } }));
		EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -ECONNREFUSED);
		EXPECT_EQ(conn_, nullptr);
		// No more SYNs.
		Quiet(200 * kSecond);
	}
}

// RFC 5927 §4.1: the quoted sequence number must lie in SND.UNA..SND.NXT-1,
// else the error is forged or stale and nothing happens.
TEST_F(TcpTimers, Established_IcmpSeqOutsideSndUnaSndNxt_Ignored)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	Deltas bad = IcmpMoved("icmp_err_unreach", "icmp_err_tcp_bad_seq");

	// Nothing in flight: no sequence number is acceptable.
	EXPECT_TRUE(Dropped(IcmpAbout(3, 1, O(1)), bad));
	EXPECT_TRUE(Dropped(IcmpAbout(3, 1, O(0)), bad));

	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	for (uint32_t seq : { O(0), O(101), O(102), O(100000), O(1) + 0x80000000u }) {
		SCOPED_TRACE("seq " + std::to_string(seq - O(0)));
		EXPECT_TRUE(Dropped(IcmpAbout(3, 1, seq), bad));
		EXPECT_TRUE(Dropped(IcmpAbout(11, 0, seq),
				    IcmpMoved("icmp_err_time_exceeded", "icmp_err_tcp_bad_seq")));
		EXPECT_TRUE(Dropped(IcmpAbout(3, 4, seq, 1000),
				    IcmpMoved("icmp_err_frag_needed", "icmp_err_tcp_bad_seq")));
	}
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.soft_error, 0);
	EXPECT_EQ(i.snd_mss, 1460);
	ExpectState(DTCP_TCP_ESTABLISHED);
	// Both ends of the range are in it.
	EXPECT_TRUE(Dropped(IcmpAbout(3, 1, O(100)),
			    IcmpMoved("icmp_err_unreach", "icmp_err_tcp", true)));
	EXPECT_TRUE(Dropped(IcmpAbout(3, 0, O(1)),
			    IcmpMoved("icmp_err_unreach", "icmp_err_tcp", true)));
	EXPECT_EQ(Info().soft_error, -ENETUNREACH);
	ExpectNoEvents();
}

// The quoted 4-tuple names no connection: counted, nothing else.
TEST_F(TcpTimers, Established_IcmpForAnotherFourTuple_NoConnection)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	Deltas none = IcmpMoved("icmp_err_unreach", "icmp_err_tcp_no_conn");

	EXPECT_TRUE(Dropped(IcmpAbout(3, 3, O(1), 0, kOurPort + 1, kPeerPort), none));
	EXPECT_TRUE(Dropped(IcmpAbout(3, 3, O(1), 0, kOurPort, kPeerPort + 1), none));
	EXPECT_TRUE(Dropped(IcmpAbout(3, 3, O(1), 0, kPeerPort, kOurPort), none));
	EXPECT_EQ(Info().soft_error, 0);
	ExpectState(DTCP_TCP_ESTABLISHED);
	ExpectNoEvents();
}

// RFC 1191: fragmentation needed with a next-hop MTU of 1000 makes the MSS
// 960 (948 with timestamps); what is in flight goes again at once, cut to it,
// and so does everything after.
class TcpPmtu : public TcpTimers, public ::testing::WithParamInterface<bool> {
protected:
	void SetUp() override
	{
		TcpTimers::SetUp();
		cfg_.tcp_timestamps = GetParam();
	}

	// Segments of at most mss from O(from) to O(to), sent now.
	void ExpectCut(uint32_t from, uint32_t to, uint16_t mss)
	{
		std::vector<Bytes> tx = TakeTx();
		size_t want = (to - from + mss - 1) / mss;

		ASSERT_EQ(tx.size(), want);
		for (size_t k = 0; k < want; k++) {
			uint32_t at = from + (uint32_t)k * mss;
			uint32_t len = std::min<uint32_t>(mss, to - at);

			ExpectData(tx[k], at + len == to ? "PA" : "A", at, len);
		}
	}

	uint16_t Ts() const { return GetParam() ? 12 : 0; }
};

TEST_P(TcpPmtu, Established_FragNeeded_MssLoweredFlightResent)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	uint16_t mss = (uint16_t)(1460 - Ts());
	ASSERT_EQ(Info().snd_mss, mss);
	Queue(3000);
	Poll();
	ASSERT_NO_FATAL_FAILURE(ExpectCut(1, 3001, mss));

	Mark();
	Inject(IcmpAbout(3, 4, O(1), 1000));
	uint16_t lowered = (uint16_t)(960 - Ts());
	EXPECT_EQ(Info().snd_mss, lowered);
	ASSERT_NO_FATAL_FAILURE(ExpectCut(1, 3001, lowered));
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_icmp_err_frag_needed), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_icmp_err_tcp), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_pmtu_lowered), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_soft_error), 0u);
	EXPECT_EQ(Info().soft_error, 0);
	ExpectState(DTCP_TCP_ESTABLISHED);

	AckUpTo(3001);
	ExpectNoTx();
	Queue(2000);
	Poll();
	ASSERT_NO_FATAL_FAILURE(ExpectCut(3001, 5001, lowered));
	AckUpTo(5001);
	Quiet(60 * kSecond);
}

// Below 68 (RFC 791's least MTU), 0 (a router from before RFC 1191), or not
// below the path we use: nothing changes, nothing is sent.
TEST_P(TcpPmtu, Established_FragNeededMtuOutOfRange_Ignored)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	uint16_t mss = (uint16_t)(1460 - Ts());
	Queue(100);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 100);
	for (uint16_t mtu : { 0, 1, 67, 1500, 1600, 65535 }) {
		SCOPED_TRACE("MTU " + std::to_string(mtu));
		EXPECT_TRUE(Dropped(IcmpAbout(3, 4, O(1), mtu),
				    IcmpMoved("icmp_err_frag_needed", "icmp_err_tcp")));
		EXPECT_EQ(Info().snd_mss, mss);
	}
	// Lowered once to 1000, an MTU of 1200 does not raise it again.
	Inject(IcmpAbout(3, 4, O(1), 1000));
	TakeTx();
	EXPECT_EQ(Info().snd_mss, 960 - Ts());
	EXPECT_TRUE(Dropped(IcmpAbout(3, 4, O(1), 1200),
			    IcmpMoved("icmp_err_frag_needed", "icmp_err_tcp")));
	EXPECT_EQ(Info().snd_mss, 960 - Ts());
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_pmtu_lowered), 1u);
}

// An MTU of 68 would give an MSS of 28: it stops at mss_min (88).
TEST_P(TcpPmtu, Established_FragNeededBelowMssMin_ClampedAtMssMin)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	ASSERT_EQ(cfg_.tcp_mss_min, 88);
	Queue(200);
	Poll();
	ExpectData(ExpectOneTx(), "PA", 1, 200);
	Inject(IcmpAbout(3, 4, O(1), 68));
	uint16_t mss = (uint16_t)(88 - Ts());
	EXPECT_EQ(Info().snd_mss, mss);
	ASSERT_NO_FATAL_FAILURE(ExpectCut(1, 201, mss));
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_pmtu_lowered), 1u);
}

INSTANTIATE_TEST_SUITE_P(Ts, TcpPmtu, ::testing::Bool(),
			 [](const ::testing::TestParamInfo<bool> &i) {
				 return i.param ? "Timestamps" : "Plain";
			 });

} // namespace
