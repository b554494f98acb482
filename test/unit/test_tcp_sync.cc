// SPDX-License-Identifier: BSD-3-Clause
// TCP packet-level tests of the synchronized states (RFC 9293 §3.10.7.4):
// a matrix of every such state against RST, SYN, ACK, FIN and data at each
// edge of the receive window (with RFC 5961 and RFC 1337), the RFC 5961 ACK
// bounds and challenge-ACK budget, PAWS (RFC 7323 §5), and the basics of
// moving data both ways in ESTABLISHED.
//
// A receive buffer of 4096 bytes without window scaling keeps the window
// edges plain: RCV.WND is 4096 and every ACK we send says so, since the
// fixture takes every DATA event at once.
#include "tcp_harness.h"

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

namespace {

constexpr uint32_t kRcvBuf = 4096;

// What one segment moves on its way in, and what each pure ACK we send
// moves on its way out, besides the counters named in d.
Deltas In(unsigned acks, Deltas d)
{
	d["rx_frames"] += 1;
	d["ip_rx"] += 1;
	d["tcp_rx"] += 1;
	if (acks > 0) {
		d["tx_frames"] += acks;
		d["ip_tx"] += acks;
		d["tcp_tx"] += acks;
		d["tcp_tx_ack_only"] += acks;
	}
	return d;
}

Bytes Slice(const Bytes &b, size_t from, size_t n)
{
	return Bytes(b.begin() + (long)from, b.begin() + (long)(from + n));
}

class TcpSync : public TcpTest {
protected:
	// Room for a segment larger than the whole receive window in one frame.
	TcpSync() { buf_size_ = RTE_PKTMBUF_HEADROOM + 8192; }

	void SetUp() override
	{
		TcpTest::SetUp();
		cfg_.tcp_rcvbuf = kRcvBuf;
		cfg_.tcp_window_scale = 0;
		cfg_.tcp_timestamps = 0;
	}

	// A segment of the peer on the fixture's 4-tuple: seq P(rcv_), and an
	// ACK of O(una_) (SND.UNA: nothing new acknowledged) when flags has ACK.
	// No options.
	Seg Bare(uint8_t flags = kAck) const
	{
		Seg s = Seg().sport(rport_).dport(lport_).seq(P(rcv_)).win(peer_win_).flags(flags);

		if (flags & kAck)
			s.ack_(O(una_));
		return s;
	}
	// The same with TSopt <peer_ts_, our_ts_> once timestamps were agreed.
	Seg Peer(uint8_t flags = kAck) const
	{
		Seg s = Bare(flags);

		if (ts_ok_)
			s.ts(peer_ts_, our_ts_);
		return s;
	}

	uint64_t Count(enum dtcp_tcp_state s) const
	{
		uint64_t c[DTCP_TCP_STATE_MAX];

		dtcp_tcp_state_counts(w_, c);
		return c[s];
	}

	// Connections other than listeners, in any state, TIME-WAIT included.
	uint64_t Connections() const
	{
		uint64_t c[DTCP_TCP_STATE_MAX], n = 0;

		dtcp_tcp_state_counts(w_, c);
		for (int s = 0; s < DTCP_TCP_STATE_MAX; s++)
			if (s != DTCP_TCP_LISTEN)
				n += c[s];
		return n;
	}

	// Our pure ACK <SEQ=SND.NXT><ACK=ack><CTL=ACK> with the full window.
	TcpSeg ExpectAck(const Bytes &frame, uint32_t ack)
	{
		return ExpectSeg(frame, "A", O(snd_), ack, WinField(kRcvBuf));
	}

	// The connection as the fixture's snd_, una_ and rcv_ say, window full.
	void ExpectConn(enum dtcp_tcp_state s)
	{
		ASSERT_NE(conn_, nullptr) << "the connection is gone";
		struct dtcp_conn_info i = Info();

		EXPECT_STREQ(dtcp_tcp_state_name(i.state), dtcp_tcp_state_name(s));
		EXPECT_EQ(dtcp_conn_state(conn_), s);
		EXPECT_EQ(i.snd_una, O(una_));
		EXPECT_EQ(i.snd_nxt, O(snd_));
		EXPECT_EQ(i.rcv_nxt, P(rcv_));
		EXPECT_EQ(i.rcv_wnd, kRcvBuf);
	}

	// A passive open whose SYN and ACK both say window win and the SYN mss,
	// so that MAX.SND.WND is win (OpenPassive's ACK always says 65535).
	void OpenPassiveWith(uint16_t win, uint16_t mss)
	{
		ASSERT_NO_FATAL_FAILURE(Listen());
		Inject(Seg().syn().seq(P(0)).win(win).mss(mss));
		TcpSeg sa = ExpectSeg(ExpectOneTx(), "SA", O(0), P(1), SynWin());
		EXPECT_EQ(sa.opts, SynOptionBytes(OurMss(), false, false, 0, 0, -1));
		snd_ = rcv_ = una_ = 1;
		peer_win_ = win;
		Inject(Peer());
		ExpectNoTx();
		ExpectEvent(DTCP_EV_ACCEPTABLE);
		ASSERT_EQ(accepted_.size(), 1u);
		conn_ = accepted_.back();
		ExpectConn(DTCP_TCP_ESTABLISHED);
		EXPECT_EQ(Info().snd_wnd, win);
		EXPECT_EQ(Info().snd_mss, mss);
		ASSERT_FALSE(HasFailure()) << "passive open";
		Mark();
	}

	// Our FIN after dtcp_tcp_shutdown().
	void Shutdown()
	{
		ASSERT_EQ(dtcp_tcp_shutdown(w_, conn_), 0);
		Poll();
		ExpectSeg(ExpectOneTx(), "FA", O(snd_), P(rcv_), WinField(kRcvBuf));
		snd_++;
		ExpectNoEvents();
	}

	// The peer's FIN at RCV.NXT, acknowledged at once.
	void PeerFin()
	{
		Inject(Peer(kFin | kAck));
		ExpectAck(ExpectOneTx(), P(rcv_ + 1));
		rcv_++;
	}

	// The peer acknowledges everything we sent, our FIN included.
	void PeerAcksAll()
	{
		una_ = snd_;
		Inject(Peer());
		ExpectNoTx();
	}

	uint32_t una_ = 0;                  // the peer's ACKs say O(una_)
	uint16_t peer_win_ = kPeerWin;      // and this window
};

// --- 1. The matrix: each synchronized state, each kind of segment, each edge ------------

enum class St { Established, FinWait1, FinWait2, CloseWait, Closing, LastAck, TimeWait };
enum class Kind { Rst, Syn, Ack, Fin, Data };
enum class Pos {
	AtRcvNxt,       // SEG.SEQ = RCV.NXT, the left edge
	InWindow,       // RCV.NXT + 100
	AtRightEdge,    // the last octet at RCV.NXT + RCV.WND - 1
	BelowWindow,    // the last octet at RCV.NXT - 1: all old
	BeyondWindow,   // SEG.SEQ = RCV.NXT + RCV.WND
	PastRightEdge,  // data from RCV.NXT running 100 octets past the right edge
};

// What happens, by RFC 9293 §3.10.7.4 with RFC 5961, RFC 1337 and RFC 6191.
enum class Out {
	Reset,              // RST at RCV.NXT: CLOSED(-ECONNRESET), nothing sent
	ChallengeAck,       // RFC 5961 §3, §4: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, dropped
	RstOutsideIgnored,  // RST outside the window: dropped silently
	AckAndDrop,         // first check failed: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, dropped
	Accepted,           // an acceptable ACK: nothing to say
	Delivered,          // text at RCV.NXT: DATA, ACK of it
	TrimmedToWindow,    // text past the right edge cut there, the rest delivered
	HeldOutOfOrder,     // text or FIN beyond RCV.NXT: held until the hole fills, duplicate ACK
	FinTaken,           // the FIN at RCV.NXT: PEER_CLOSED, ACK, the next state
	TextIgnored,        // after the peer's FIN there is no text (seventh step): nothing sent
	TextIgnoredAcked,   // the same, past the right edge: trimmed first, and that owes an ACK
	TwRstIgnored,       // RFC 1337: no TIME-WAIT assassination
	TwAcked,            // TIME-WAIT answers with its ACK
	TwDropped,          // TIME-WAIT: a duplicate bare ACK at RCV.NXT, nothing to say
	TwFinReAcked,       // TIME-WAIT: the FIN again is ACKed
	TwReopened,         // RFC 6191 / RFC 1122 §4.2.2.13: a newer SYN opens anew
	TwChallengeAck,     // RFC 5961 §4, RFC 9293 fourth step: a SYN that opens nothing
};

struct Case {
	St st;
	Kind kind;
	Pos pos;
};

bool TakesText(St s)
{
	return s == St::Established || s == St::FinWait1 || s == St::FinWait2;
}

bool InWindow(Pos p)
{
	return p == Pos::AtRcvNxt || p == Pos::InWindow || p == Pos::AtRightEdge ||
	       p == Pos::PastRightEdge;
}

// The table, written as the rules it follows.
Out Expected(const Case &c)
{
	bool left = c.pos == Pos::AtRcvNxt;

	if (c.st == St::TimeWait) {
		switch (c.kind) {
		case Kind::Rst:
			return Out::TwRstIgnored;
		case Kind::Syn:
			// Newer than RCV.NXT opens a new incarnation (the listener is there).
			return left || c.pos == Pos::BelowWindow ? Out::TwChallengeAck : Out::TwReopened;
		case Kind::Ack:
			return left ? Out::TwDropped : Out::TwAcked;
		case Kind::Fin:
			return Out::TwFinReAcked;
		case Kind::Data:
			return Out::TwAcked;
		}
	}
	switch (c.kind) {
	case Kind::Rst:
		return left ? Out::Reset : InWindow(c.pos) ? Out::ChallengeAck : Out::RstOutsideIgnored;
	case Kind::Syn:
		return InWindow(c.pos) ? Out::ChallengeAck : Out::AckAndDrop;
	case Kind::Ack:
		return InWindow(c.pos) ? Out::Accepted : Out::AckAndDrop;
	case Kind::Fin:
		if (!InWindow(c.pos))
			return Out::AckAndDrop;
		if (!TakesText(c.st))
			return Out::TextIgnored;
		return left ? Out::FinTaken : Out::HeldOutOfOrder;
	case Kind::Data:
		if (!InWindow(c.pos))
			return Out::AckAndDrop;
		if (!TakesText(c.st))
			return c.pos == Pos::PastRightEdge ? Out::TextIgnoredAcked : Out::TextIgnored;
		return left ? Out::Delivered
		       : c.pos == Pos::PastRightEdge ? Out::TrimmedToWindow
						     : Out::HeldOutOfOrder;
	}
	return Out::AckAndDrop;
}

const char *StName(St s)
{
	switch (s) {
	case St::Established: return "Established";
	case St::FinWait1: return "FinWait1";
	case St::FinWait2: return "FinWait2";
	case St::CloseWait: return "CloseWait";
	case St::Closing: return "Closing";
	case St::LastAck: return "LastAck";
	case St::TimeWait: return "TimeWait";
	}
	return "?";
}

enum dtcp_tcp_state Dtcp(St s)
{
	switch (s) {
	case St::Established: return DTCP_TCP_ESTABLISHED;
	case St::FinWait1: return DTCP_TCP_FIN_WAIT_1;
	case St::FinWait2: return DTCP_TCP_FIN_WAIT_2;
	case St::CloseWait: return DTCP_TCP_CLOSE_WAIT;
	case St::Closing: return DTCP_TCP_CLOSING;
	case St::LastAck: return DTCP_TCP_LAST_ACK;
	case St::TimeWait: return DTCP_TCP_TIME_WAIT;
	}
	return DTCP_TCP_CLOSED;
}

const char *KindName(Kind k)
{
	switch (k) {
	case Kind::Rst: return "Rst";
	case Kind::Syn: return "Syn";
	case Kind::Ack: return "Ack";
	case Kind::Fin: return "Fin";
	case Kind::Data: return "Data";
	}
	return "?";
}

const char *PosName(Pos p)
{
	switch (p) {
	case Pos::AtRcvNxt: return "AtRcvNxt";
	case Pos::InWindow: return "InWindow";
	case Pos::AtRightEdge: return "AtRightEdge";
	case Pos::BelowWindow: return "BelowWindow";
	case Pos::BeyondWindow: return "BeyondWindow";
	case Pos::PastRightEdge: return "PastRightEdge";
	}
	return "?";
}

std::string OutName(const Case &c, Out o)
{
	switch (o) {
	case Out::Reset: return "Reset";
	case Out::ChallengeAck: return "ChallengeAck";
	case Out::RstOutsideIgnored: return "SilentlyDropped";
	case Out::AckAndDrop: return "AckedAndDropped";
	case Out::Accepted: return "Accepted";
	case Out::Delivered: return "Delivered";
	case Out::TrimmedToWindow: return "TrimmedToWindow";
	case Out::HeldOutOfOrder: return "HeldOutOfOrderDupAck";
	case Out::FinTaken:
		return c.st == St::Established ? "ToCloseWait"
		       : c.st == St::FinWait1  ? "ToClosing"
					       : "ToTimeWait";
	case Out::TextIgnored: return "Ignored";
	case Out::TextIgnoredAcked: return "IgnoredAcked";
	case Out::TwRstIgnored: return "IgnoredRfc1337";
	case Out::TwAcked: return "Acked";
	case Out::TwDropped: return "SilentlyDropped";
	case Out::TwFinReAcked: return "FinReAcked";
	case Out::TwReopened: return "ReopenedRfc6191";
	case Out::TwChallengeAck: return "ChallengeAck";
	}
	return "?";
}

void PrintTo(const Case &c, std::ostream *os)
{
	*os << StName(c.st) << " " << KindName(c.kind) << " " << PosName(c.pos);
}

std::string CaseName(const ::testing::TestParamInfo<Case> &i)
{
	return std::string(StName(i.param.st)) + "_" + KindName(i.param.kind) +
	       PosName(i.param.pos) + "_" + OutName(i.param, Expected(i.param));
}

std::vector<Case> AllCases()
{
	std::vector<Case> v;

	for (St s : { St::Established, St::FinWait1, St::FinWait2, St::CloseWait, St::Closing,
		      St::LastAck, St::TimeWait })
		for (Kind k : { Kind::Rst, Kind::Syn, Kind::Ack, Kind::Fin, Kind::Data })
			for (Pos p : { Pos::AtRcvNxt, Pos::InWindow, Pos::AtRightEdge,
				       Pos::BelowWindow, Pos::BeyondWindow, Pos::PastRightEdge })
				if (p != Pos::PastRightEdge || k == Kind::Data)
					v.push_back({ s, k, p });
	return v;
}

class TcpSyncMatrix : public TcpSync, public ::testing::WithParamInterface<Case> {
protected:
	// The state through real segments: a passive open, 100 bytes from the
	// peer (so the bytes below RCV.NXT were really received), then shutdown
	// and the peer's FIN and ACK in the order the state needs.
	void Reach(St s)
	{
		Start();
		ASSERT_NO_FATAL_FAILURE(OpenPassive());
		una_ = 1;
		Inject(Peer(kPsh | kAck).data(Pattern(100, 1)));
		ExpectAck(ExpectOneTx(), P(101));
		EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Pattern(100, 1));
		rcv_ = 101;
		switch (s) {
		case St::Established:
			break;
		case St::FinWait1:
			ASSERT_NO_FATAL_FAILURE(Shutdown());
			break;
		case St::FinWait2:
			ASSERT_NO_FATAL_FAILURE(Shutdown());
			ASSERT_NO_FATAL_FAILURE(PeerAcksAll());
			ExpectNoEvents();
			break;
		case St::CloseWait:
			ASSERT_NO_FATAL_FAILURE(PeerFin());
			ExpectEvent(DTCP_EV_PEER_CLOSED);
			break;
		case St::Closing:
			// Simultaneous close: the peer's FIN comes before its ACK of ours.
			ASSERT_NO_FATAL_FAILURE(Shutdown());
			ASSERT_NO_FATAL_FAILURE(PeerFin());
			ExpectEvent(DTCP_EV_PEER_CLOSED);
			break;
		case St::LastAck:
			ASSERT_NO_FATAL_FAILURE(PeerFin());
			ExpectEvent(DTCP_EV_PEER_CLOSED);
			ASSERT_NO_FATAL_FAILURE(Shutdown());
			break;
		case St::TimeWait: {
			ASSERT_NO_FATAL_FAILURE(Shutdown());
			ASSERT_NO_FATAL_FAILURE(PeerAcksAll());
			ASSERT_NO_FATAL_FAILURE(PeerFin());
			std::vector<Event> e = ExpectEvents({ DTCP_EV_PEER_CLOSED, DTCP_EV_CLOSED });
			if (e.size() == 2) {
				EXPECT_EQ(e[1].error, 0) << "an orderly end";
			}
			break;
		}
		}
		ExpectHere(s);
		ASSERT_FALSE(HasFailure()) << "reaching " << StName(s);
		Mark();
	}

	// Still in s, nothing moved.
	void ExpectHere(St s)
	{
		if (s == St::TimeWait) {
			EXPECT_EQ(conn_, nullptr) << "TIME-WAIT has no handle";
			EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
			EXPECT_EQ(Connections(), 1u) << "the TIME-WAIT record and nothing else";
			return;
		}
		ExpectConn(Dtcp(s));
		EXPECT_EQ(Connections(), 1u);
	}

	// The segment of the case, relative to RCV.NXT = P(rcv_).
	Seg Build(Kind k, Pos p, const Bytes &payload) const
	{
		uint32_t len = k == Kind::Syn || k == Kind::Fin ? 1 : (uint32_t)payload.size();
		uint32_t octets = std::max(len, 1u);
		int64_t off = 0;

		switch (p) {
		case Pos::AtRcvNxt:
		case Pos::PastRightEdge:
			off = 0;
			break;
		case Pos::InWindow:
			off = 100;
			break;
		case Pos::AtRightEdge:
			off = kRcvBuf - octets;
			break;
		case Pos::BelowWindow:
			off = -(int64_t)octets;
			break;
		case Pos::BeyondWindow:
			off = kRcvBuf;
			break;
		}
		Seg s = Seg().sport(rport_).dport(lport_).seq(P(rcv_ + off)).win(kPeerWin);
		switch (k) {
		case Kind::Rst:
			s.rst();
			break;
		case Kind::Syn:
			s.syn();
			break;
		case Kind::Ack:
			s.ack().ack_(O(una_));
			break;
		case Kind::Fin:
			s.fin().ack().ack_(O(una_));
			break;
		case Kind::Data:
			s.psh().ack().ack_(O(una_)).data(payload);
			break;
		}
		return s;
	}
};

TEST_P(TcpSyncMatrix, Segment)
{
	const Case c = GetParam();
	const Out out = Expected(c);
	const Bytes payload = Pattern(c.pos == Pos::PastRightEdge ? kRcvBuf + 100 : 10, 7);
	SCOPED_TRACE(CaseName(::testing::TestParamInfo<Case>(c, 0)));

	ASSERT_NO_FATAL_FAILURE(Reach(c.st));
	const Seg seg = Build(c.kind, c.pos, payload);
	Inject(seg);
	std::vector<Bytes> tx = TakeTx();
	Deltas moved = Moved();
	std::vector<Event> evs = TakeEvents();
	const uint32_t rnxt = P(rcv_);
	const std::string challenged = c.kind == Kind::Rst ? "tcp_rst_challenged"
						: "tcp_syn_challenged";

	switch (out) {
	case Out::Reset:
		EXPECT_EQ(tx.size(), 0u) << "nothing answers a RST";
		ASSERT_EQ(evs.size(), 1u) << EventsString(evs);
		EXPECT_EQ(evs[0].type, DTCP_EV_CLOSED);
		EXPECT_EQ(evs[0].error, -ECONNRESET);
		EXPECT_EQ(conn_, nullptr);
		EXPECT_EQ(Connections(), 0u);
		EXPECT_EQ(moved, In(0, { { "tcp_rst_accepted", 1 }, { "tcp_reset_rx", 1 },
					 { "tcp_events", 1 } }));
		return;
	case Out::ChallengeAck:
		ASSERT_EQ(tx.size(), 1u);
		ExpectAck(tx[0], rnxt);
		EXPECT_TRUE(evs.empty()) << EventsString(evs);
		EXPECT_EQ(moved, In(1, { { challenged, 1 }, { "tcp_challenge_ack_tx", 1 } }));
		break;
	case Out::RstOutsideIgnored:
		EXPECT_EQ(tx.size(), 0u);
		EXPECT_TRUE(evs.empty()) << EventsString(evs);
		EXPECT_EQ(moved, In(0, { { "tcp_rst_outside", 1 } }));
		break;
	case Out::AckAndDrop:
		ASSERT_EQ(tx.size(), 1u);
		ExpectAck(tx[0], rnxt);
		EXPECT_TRUE(evs.empty()) << EventsString(evs);
		EXPECT_EQ(moved, In(1, { { "tcp_seq_unacceptable", 1 } }));
		break;
	case Out::Accepted:
	case Out::TextIgnored: {
		Deltas want = { { "tcp_ack_rx", 1 } };

		// A bare ACK of nothing new while our FIN is out is a duplicate ACK
		// (RFC 5681 §2): counted, and no more than that on its own.
		if (c.kind == Kind::Ack &&
		    (c.st == St::FinWait1 || c.st == St::Closing || c.st == St::LastAck))
			want["tcp_dupack_rx"] = 1;
		EXPECT_EQ(tx.size(), 0u);
		EXPECT_TRUE(evs.empty()) << EventsString(evs);
		EXPECT_EQ(moved, In(0, want));
		break;
	}
	case Out::TextIgnoredAcked:
		ASSERT_EQ(tx.size(), 1u);
		ExpectAck(tx[0], rnxt);
		EXPECT_TRUE(evs.empty()) << EventsString(evs);
		EXPECT_EQ(moved, In(1, { { "tcp_ack_rx", 1 } }));
		break;
	case Out::Delivered:
	case Out::TrimmedToWindow: {
		size_t n = std::min<size_t>(payload.size(), kRcvBuf);

		ASSERT_EQ(tx.size(), 1u);
		ExpectAck(tx[0], rnxt + (uint32_t)n);
		ASSERT_EQ(evs.size(), 1u) << EventsString(evs);
		EXPECT_EQ(evs[0].type, DTCP_EV_DATA);
		EXPECT_EQ(evs[0].data, Slice(payload, 0, n)) << "the bytes up to the right edge";
		EXPECT_EQ(moved, In(1, { { "tcp_data_rx", 1 }, { "tcp_events", 1 } }));
		rcv_ += n;
		break;
	}
	case Out::HeldOutOfOrder:
		// What lies beyond RCV.NXT waits in the out-of-order queue and a
		// duplicate ACK asks for the hole at once (RFC 5681 §4.2).
		ASSERT_EQ(tx.size(), 1u);
		ExpectAck(tx[0], rnxt);
		EXPECT_TRUE(evs.empty()) << EventsString(evs);
		EXPECT_EQ(moved, In(1, { { "tcp_ooo_queued", 1 } }));
		break;
	case Out::FinTaken: {
		ASSERT_EQ(tx.size(), 1u);
		ExpectAck(tx[0], rnxt + 1);
		rcv_++;
		if (c.st == St::FinWait2) {
			ASSERT_EQ(evs.size(), 2u) << EventsString(evs);
			EXPECT_EQ(evs[0].type, DTCP_EV_PEER_CLOSED);
			EXPECT_EQ(evs[1].type, DTCP_EV_CLOSED);
			EXPECT_EQ(evs[1].error, 0) << "an orderly end";
			EXPECT_EQ(moved, In(1, { { "tcp_fin_rx", 1 }, { "tcp_events", 2 },
						 { "tcp_closed_orderly", 1 },
						 { "tcp_timewait_enter", 1 } }));
			ExpectHere(St::TimeWait);
			return;
		}
		ASSERT_EQ(evs.size(), 1u) << EventsString(evs);
		EXPECT_EQ(evs[0].type, DTCP_EV_PEER_CLOSED);
		EXPECT_EQ(moved, In(1, { { "tcp_fin_rx", 1 }, { "tcp_events", 1 } }));
		ExpectHere(c.st == St::Established ? St::CloseWait : St::Closing);
		return;
	}
	case Out::TwRstIgnored:
		EXPECT_EQ(tx.size(), 0u) << "RFC 1337: TIME-WAIT is not assassinated";
		EXPECT_EQ(moved, In(0, { { "tcp_tw_rst", 1 } }));
		break;
	case Out::TwAcked:
	case Out::TwChallengeAck:
		EXPECT_EQ(tx.size(), 1u) << "TIME-WAIT answers with <SEQ=SND.NXT><ACK=RCV.NXT>";
		if (tx.size() == 1)
			ExpectAck(tx[0], rnxt);
		EXPECT_EQ(moved, In(1, { { "tcp_tw_ack", 1 } }));
		break;
	case Out::TwDropped:
		EXPECT_EQ(tx.size(), 0u);
		EXPECT_EQ(moved, In(0, { { "tcp_tw_drop", 1 } }));
		break;
	case Out::TwFinReAcked:
		ASSERT_EQ(tx.size(), 1u);
		ExpectAck(tx[0], rnxt);
		EXPECT_EQ(moved, In(1, { { "tcp_tw_fin_reack", 1 } }));
		break;
	case Out::TwReopened: {
		// A new incarnation whose ISS is above every sequence number the
		// old one used (RFC 1122 §4.2.2.13 (1), RFC 6191).
		ASSERT_EQ(tx.size(), 1u);
		const uint32_t iss = ParseTcp(tx[0]).seq;
		EXPECT_GT((int32_t)(iss - O(snd_)), 0) << "new ISS above the old SND.NXT";
		TcpSeg sa = ExpectSeg(tx[0], "SA", iss, seg.seq_no + 1, SynWin());
		EXPECT_EQ(sa.opts, SynOptionBytes(OurMss(), false, false, 0, 0, -1));
		EXPECT_TRUE(evs.empty()) << EventsString(evs);
		EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 0u);
		EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 1u);
		EXPECT_EQ(moved, (Deltas{ { "rx_frames", 1 }, { "ip_rx", 1 }, { "tcp_rx", 1 },
					  { "tcp_tw_reuse", 1 }, { "tcp_timewait_expired", 1 },
					  { "tcp_passive_open", 1 }, { "tcp_syn_rx", 1 },
					  { "tx_frames", 1 }, { "ip_tx", 1 }, { "tcp_tx", 1 },
					  { "tcp_tx_syn", 1 } }));
		return;
	}
	}
	if (c.st == St::TimeWait) {
		EXPECT_TRUE(evs.empty()) << "TIME-WAIT has no handle: " << EventsString(evs);
	}
	ExpectHere(c.st);
}

INSTANTIATE_TEST_SUITE_P(Rfc9293, TcpSyncMatrix, ::testing::ValuesIn(AllCases()), CaseName);

// --- 2. RFC 5961 §5: the bounds on SEG.ACK ----------------------------------------------

class TcpSyncAck : public TcpSync {
protected:
	// MAX.SND.WND 1000, and 500 bytes of ours in flight: SND.UNA O(1), SND.NXT O(501).
	void SetUpConn()
	{
		Start();
		ASSERT_NO_FATAL_FAILURE(OpenPassiveWith(1000, kPeerMss));
		ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, Pattern(500, 3).data(), 500), 500);
		Poll();
		ExpectSeg(ExpectOneTx(), "PA", O(1), P(1), WinField(kRcvBuf));
		snd_ = 501;
		ExpectConn(DTCP_TCP_ESTABLISHED);
		ASSERT_FALSE(HasFailure());
		Mark();
	}

	// Data with SEG.ACK = ack: challenged (nothing delivered) or taken.
	void ExpectChallenged(uint32_t ack)
	{
		uint32_t queued = Info().send_queued;

		Mark();
		Inject(Peer(kPsh | kAck).ack_(ack).data("0123456789"));
		ExpectAck(ExpectOneTx(), P(rcv_));
		ExpectNoEvents();
		EXPECT_EQ(Moved(), In(1, { { "tcp_ack_unacceptable", 1 },
					   { "tcp_challenge_ack_tx", 1 } }));
		ExpectConn(DTCP_TCP_ESTABLISHED);
		EXPECT_EQ(Info().send_queued, queued) << "nothing of ours acknowledged";
	}

	void ExpectTakenAsOld(uint32_t ack)
	{
		uint32_t queued = Info().send_queued;

		Mark();
		Inject(Peer(kPsh | kAck).ack_(ack).data("0123456789"));
		rcv_ += 10;
		ExpectAck(ExpectOneTx(), P(rcv_));
		EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Bytes({ '0', '1', '2', '3', '4', '5', '6',
								   '7', '8', '9' }));
		EXPECT_EQ(Moved(), In(1, { { "tcp_data_rx", 1 }, { "tcp_events", 1 } }));
		ExpectConn(DTCP_TCP_ESTABLISHED);
		EXPECT_EQ(Info().send_queued, queued) << "an old ACK acknowledges nothing";
	}
};

TEST_F(TcpSyncAck, Established_AckAboveSndNxt_ChallengeAckDataDropped)
{
	ASSERT_NO_FATAL_FAILURE(SetUpConn());
	ExpectChallenged(O(502));
}

TEST_F(TcpSyncAck, Established_AckFarAboveSndNxt_ChallengeAckDataDropped)
{
	ASSERT_NO_FATAL_FAILURE(SetUpConn());
	ExpectChallenged(O(501 + 0x10000000));
}

TEST_F(TcpSyncAck, Established_AckBelowUnaMinusMaxSndWnd_ChallengeAckDataDropped)
{
	ASSERT_NO_FATAL_FAILURE(SetUpConn());
	ExpectChallenged(O(1 - 1001));
}

TEST_F(TcpSyncAck, Established_AckAtUnaMinusMaxSndWnd_OldAckDataTaken)
{
	ASSERT_NO_FATAL_FAILURE(SetUpConn());
	ExpectTakenAsOld(O(1 - 1000));
}

TEST_F(TcpSyncAck, Established_DuplicateAck_AcceptedIgnored)
{
	ASSERT_NO_FATAL_FAILURE(SetUpConn());
	Inject(Peer());
	ExpectNoTx();
	ExpectNoEvents();
	// Data is in flight, so it counts as a duplicate ACK (RFC 5681 §2); one is not enough to act.
	EXPECT_EQ(Moved(), In(0, { { "tcp_ack_rx", 1 }, { "tcp_dupack_rx", 1 } }));
	ExpectConn(DTCP_TCP_ESTABLISHED);
	ExpectTakenAsOld(O(1));
}

TEST_F(TcpSyncAck, Established_AckAtSndNxt_AllAcknowledged)
{
	ASSERT_NO_FATAL_FAILURE(SetUpConn());
	una_ = 501;
	Inject(Peer());
	ExpectNoTx();
	ExpectNoEvents();
	EXPECT_EQ(Moved(), In(0, { { "tcp_ack_rx", 1 } }));
	ExpectConn(DTCP_TCP_ESTABLISHED);
	EXPECT_EQ(Info().send_queued, 0u);
	// SND.UNA moved, and the lower bound with it.
	ExpectChallenged(O(501 - 1001));
}

TEST_F(TcpSyncAck, Established_MaxSndWnd_IsTheLargestWindowSeen)
{
	ASSERT_NO_FATAL_FAILURE(SetUpConn());
	// The window opens to 3000, then shrinks to 200: MAX.SND.WND stays 3000.
	Inject(Peer().win(3000));
	Inject(Peer().win(200));
	ExpectNoTx();
	EXPECT_EQ(Info().snd_wnd, 200u);
	Mark();
	ExpectChallenged(O(1 - 3001));
	Mark();
	ExpectTakenAsOld(O(1 - 3000));
}

TEST_F(TcpSyncAck, Established_OldAckOnNewerSegment_WindowNotTaken)
{
	ASSERT_NO_FATAL_FAILURE(SetUpConn());
	// 500 more: the window of 1000 takes half of it; 500 wait.
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, Pattern(1000, 4).data(), 1000), 1000);
	Poll();
	TcpSeg s = ExpectSeg(ExpectOneTx(), "A", O(501), P(1), WinField(kRcvBuf));
	EXPECT_EQ(s.payload.size(), 500u);
	snd_ = 1001;
	// Ten octets with the current ACK: SND.WL1 = P(1), SND.WL2 = O(1).
	Inject(Peer(kPsh | kAck).data("abcdefghij"));
	rcv_ = 11;
	ExpectAck(ExpectOneTx(), P(11));
	ExpectEvent(DTCP_EV_DATA);
	// Newer data than SND.WL1 whose ACK is old (yet within RFC 5961's
	// bounds) and whose window would end at O(-99) + 1100 = O(1001).
	Inject(Peer(kPsh | kAck).ack_(O(-99)).win(1100).data("0123456789"));
	rcv_ = 21;
	// RFC 9293 §3.10.7.4 fifth: the window is taken only when
	// SND.UNA =< SEG.ACK; nothing may go past O(1001).
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 1u);
	s = ExpectAck(tx[0], P(21));
	EXPECT_EQ(s.payload.size(), 0u) << "sent past the right edge the peer offered";
	ExpectEvent(DTCP_EV_DATA);
	EXPECT_EQ(Info().snd_wnd, 1000u);
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

// --- 3. RFC 5961 §7: challenge ACKs, a few per second per connection --------------------

class TcpSyncLimit : public TcpSync {
protected:
	void SetUp() override
	{
		TcpSync::SetUp();
		cfg_.tcp_challenge_ack_limit = 3;
	}

	// An in-window RST to the connection on peer port rport: a challenge
	// ACK when the budget allows (true), nothing otherwise.
	bool RstChallenged(uint16_t rport, int64_t off)
	{
		uint16_t keep = rport_;

		rport_ = rport;
		Inject(Peer(kRst).seq(P(rcv_ + off)));
		std::vector<Bytes> tx = TakeTx();
		if (tx.size() == 1)
			ExpectAck(tx[0], P(rcv_));
		EXPECT_LE(tx.size(), 1u);
		rport_ = keep;
		return tx.size() == 1;
	}
};

TEST_F(TcpSyncLimit, Established_ElevenRstsInOneSecond_ThreeChallengeAcks)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	for (int i = 0; i < 11; i++)
		EXPECT_EQ(RstChallenged(kPeerPort, 1 + i), i < 3) << "RST " << i;
	Deltas in11 = In(3, { { "tcp_rst_challenged", 11 }, { "tcp_challenge_ack_tx", 3 },
			      { "tcp_challenge_ack_limited", 8 } });
	in11["rx_frames"] = in11["ip_rx"] = in11["tcp_rx"] = 11;
	EXPECT_EQ(Moved(), in11);
	ExpectNoEvents();
	ExpectConn(DTCP_TCP_ESTABLISHED);

	// Still the same second after 999 ms; a new one at 1000 ms.
	Advance(999);
	EXPECT_FALSE(RstChallenged(kPeerPort, 50));
	Advance(1);
	EXPECT_TRUE(RstChallenged(kPeerPort, 50));
	EXPECT_TRUE(RstChallenged(kPeerPort, 51));
	EXPECT_TRUE(RstChallenged(kPeerPort, 52));
	EXPECT_FALSE(RstChallenged(kPeerPort, 53));
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_challenge_ack_tx), 6u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_challenge_ack_limited), 10u);
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSyncLimit, Established_TwoConnectionsInterleaved_EachItsOwnBudget)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	struct dtcp_conn *a = conn_;
	ASSERT_NO_FATAL_FAILURE(OpenPassive(PeerSyn().sport(kPeerPort + 1)));
	struct dtcp_conn *b = conn_;
	ASSERT_NE(a, b);
	una_ = 1;
	unsigned acks_a = 0, acks_b = 0;

	for (int i = 0; i < 11; i++) {
		acks_a += RstChallenged(kPeerPort, 1 + i);
		acks_b += RstChallenged(kPeerPort + 1, 1 + i);
	}
	EXPECT_EQ(acks_a, 3u);
	EXPECT_EQ(acks_b, 3u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_challenge_ack_tx), 6u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_challenge_ack_limited), 16u);
	EXPECT_EQ(dtcp_conn_state(a), DTCP_TCP_ESTABLISHED);
	EXPECT_EQ(dtcp_conn_state(b), DTCP_TCP_ESTABLISHED);
	ExpectNoEvents();

	// One spent budget does not spend the other's after a new second.
	Advance(1000);
	for (int i = 0; i < 4; i++)
		acks_a += RstChallenged(kPeerPort, 20 + i);
	EXPECT_EQ(acks_a, 6u);
	EXPECT_TRUE(RstChallenged(kPeerPort + 1, 30));
}

TEST_F(TcpSyncLimit, Established_SynRstAndBadAck_ShareOneBudget)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	Inject(Peer(kSyn).seq(P(5)));
	ExpectAck(ExpectOneTx(), P(1));
	EXPECT_TRUE(RstChallenged(kPeerPort, 5));
	Inject(Peer().ack_(O(2)));
	ExpectAck(ExpectOneTx(), P(1));
	// The fourth challenge of the second, whatever its kind, is not sent.
	Inject(Peer(kSyn).seq(P(6)));
	ExpectNoTx();
	EXPECT_FALSE(RstChallenged(kPeerPort, 6));
	Inject(Peer().ack_(O(3)));
	ExpectNoTx();
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_challenge_ack_tx), 3u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_challenge_ack_limited), 3u);
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSyncLimit, Established_BudgetSpent_UnacceptableSegmentStillAcked)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	for (int i = 0; i < 4; i++)
		RstChallenged(kPeerPort, 1 + i);
	ASSERT_EQ(Ctr(DTCP_CTR_tcp_challenge_ack_limited), 1u);
	// The first check's ACK is no challenge ACK (RFC 5961 §7 limits those only).
	Mark();
	Inject(Peer(kPsh | kAck).seq(P(1 + kRcvBuf)).data("x"));
	ExpectAck(ExpectOneTx(), P(1));
	EXPECT_EQ(Moved(), In(1, { { "tcp_seq_unacceptable", 1 } }));
}

// --- 4. PAWS (RFC 7323 §5) and TS.Recent (RFC 7323 §4.3) --------------------------------

class TcpSyncPaws : public TcpSync {
protected:
	void SetUp() override
	{
		TcpSync::SetUp();
		cfg_.tcp_timestamps = 1;
	}

	void Open()
	{
		Start();
		ASSERT_NO_FATAL_FAILURE(OpenPassive());
		ASSERT_TRUE(ts_ok_);
		una_ = 1;
		Mark();
	}

	// Data at RCV.NXT with TSval tsval.
	Seg DataTs(uint32_t tsval, const std::string &text) const
	{
		return Bare(kPsh | kAck).ts(tsval, our_ts_).data(text);
	}

	// Our ACK of everything up to P(rcv_), echoing tsecr.
	void ExpectAckEchoing(const Bytes &frame, uint32_t tsecr)
	{
		TcpSeg s = ExpectAck(frame, P(rcv_));
		EXPECT_TRUE(s.has_ts);
		EXPECT_EQ(s.tsecr, tsecr) << "TSecr is TS.Recent";
	}

	void ExpectDelivered(uint32_t tsval, const std::string &text, uint32_t tsecr)
	{
		Mark();
		Inject(DataTs(tsval, text));
		rcv_ += (uint32_t)text.size();
		ExpectAckEchoing(ExpectOneTx(), tsecr);
		EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Bytes(text.begin(), text.end()));
		EXPECT_EQ(Moved(), In(1, { { "tcp_data_rx", 1 }, { "tcp_events", 1 } }));
	}

	void ExpectPawsRejected(uint32_t tsval, uint32_t ts_recent)
	{
		Mark();
		Inject(DataTs(tsval, "old"));
		ExpectAckEchoing(ExpectOneTx(), ts_recent);
		ExpectNoEvents();
		EXPECT_EQ(Moved(), In(1, { { "tcp_paws_rejected", 1 } }));
		ExpectConn(DTCP_TCP_ESTABLISHED);
	}
};

TEST_F(TcpSyncPaws, Established_OlderTsval_DroppedWithAckDataNotDelivered)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ExpectPawsRejected(kPeerTsval - 1, kPeerTsval);
	// The same bytes with a current TSval are taken: it was PAWS, not the window.
	ExpectDelivered(kPeerTsval, "old", kPeerTsval);
}

// Timestamps are read wherever they sit: the 12-byte NOP, NOP, TS layout
// has a short path, so the same 12 bytes in another order, and that layout
// with a wrong TS length, must still be walked (read, and refused).
static Bytes TsFirst(uint32_t tsval, uint32_t tsecr)
{
	Bytes o = { kOptTs, 10 };
	for (int i = 3; i >= 0; i--)
		o.push_back((uint8_t)(tsval >> (8 * i)));
	for (int i = 3; i >= 0; i--)
		o.push_back((uint8_t)(tsecr >> (8 * i)));
	o.push_back(1);
	o.push_back(1);
	return o;
}

TEST_F(TcpSyncPaws, Established_TsBeforeTheNops_ReadAsTheUsualLayout)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	Mark();
	Inject(Bare(kPsh | kAck).opt(TsFirst(kPeerTsval - 1, our_ts_)).data("old"));
	ExpectAckEchoing(ExpectOneTx(), kPeerTsval);
	EXPECT_EQ(Moved(), In(1, { { "tcp_paws_rejected", 1 } }));
	Mark();
	Inject(Bare(kPsh | kAck).opt(TsFirst(kPeerTsval + 7, our_ts_)).data("new"));
	rcv_ += 3;
	ExpectAckEchoing(ExpectOneTx(), kPeerTsval + 7);
	EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Bytes({ 'n', 'e', 'w' }));
}

TEST_F(TcpSyncPaws, Established_NopNopTsWithWrongLength_Malformed)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	Bytes o = { 1, 1, kOptTs, 9, 0, 0, 0, 1, 0, 0, 0, 0 };
	EXPECT_TRUE(Dropped(Frame(Bare(kPsh | kAck).opt(o).data("bad")),
			    { { "ip_rx", 1 }, { "tcp_rx", 1 }, { "tcp_opt_malformed", 1 } }));
	ExpectNoEvents();
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSyncPaws, Established_OlderTsvalOnOldDuplicate_PawsBeforeSequenceCheck)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ExpectDelivered(kPeerTsval + 1, "abcdef", kPeerTsval + 1);
	Mark();
	Inject(DataTs(kPeerTsval, "abcdef").seq(P(1)));
	ExpectAckEchoing(ExpectOneTx(), kPeerTsval + 1);
	ExpectNoEvents();
	EXPECT_EQ(Moved(), In(1, { { "tcp_paws_rejected", 1 } }));
}

TEST_F(TcpSyncPaws, Established_EqualTsval_Accepted)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ExpectDelivered(kPeerTsval, "same", kPeerTsval);
}

TEST_F(TcpSyncPaws, Established_OlderTsvalRstAtRcvNxt_StillResets)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	// RFC 7323 §5.3 (RFC 1323 before it): a RST is acceptable whatever its timestamp.
	Inject(Bare(kRst).ts(kPeerTsval - 1000, 0));
	ExpectNoTx();
	Event e = ExpectEvent(DTCP_EV_CLOSED);
	EXPECT_EQ(e.error, -ECONNRESET);
	EXPECT_EQ(Moved(), In(0, { { "tcp_rst_accepted", 1 }, { "tcp_reset_rx", 1 },
				   { "tcp_events", 1 } }));
	EXPECT_EQ(Connections(), 0u);
}

TEST_F(TcpSyncPaws, Established_OlderTsvalRstInWindow_ChallengeAck)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	Inject(Bare(kRst).seq(P(2)).ts(kPeerTsval - 1000, 0));
	ExpectAckEchoing(ExpectOneTx(), kPeerTsval);
	ExpectNoEvents();
	EXPECT_EQ(Moved(), In(1, { { "tcp_rst_challenged", 1 }, { "tcp_challenge_ack_tx", 1 } }));
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSyncPaws, Established_RstWithoutTimestamp_Resets)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	// RFC 7323 §3.2: a RST need not carry TSopt.
	Inject(Bare(kRst));
	ExpectNoTx();
	EXPECT_EQ(ExpectEvent(DTCP_EV_CLOSED).error, -ECONNRESET);
	EXPECT_EQ(Connections(), 0u);
}

TEST_F(TcpSyncPaws, Established_DataWithoutTimestamp_DroppedSilently)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	// RFC 7323 §3.2: a non-RST segment without TSopt SHOULD be dropped silently.
	Seg s = Bare(kPsh | kAck).data("bare");
	const Deltas missing = { { "ip_rx", 1 }, { "tcp_rx", 1 }, { "tcp_ts_missing", 1 } };
	EXPECT_TRUE(Dropped(Frame(s), missing));
	ExpectNoEvents();
	EXPECT_TRUE(Dropped(Frame(Bare()), missing));
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSyncPaws, Established_NewerTsvalInOrder_EchoedInNextAck)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ExpectDelivered(kPeerTsval + 5, "one", kPeerTsval + 5);
	ExpectDelivered(kPeerTsval + 9, "two", kPeerTsval + 9);
	// And the older of the two is now too old.
	ExpectPawsRejected(kPeerTsval + 5, kPeerTsval + 9);
}

TEST_F(TcpSyncPaws, Established_TwoSegmentsOneAck_EchoesTheEarliest)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	// RFC 7323 §4.3: only a segment at or below Last.ACK.sent updates
	// TS.Recent, so one ACK for two segments echoes the first one's TSval.
	InjectOnly(Frame(DataTs(kPeerTsval + 1, "first")));
	rcv_ += 5;
	InjectOnly(Frame(DataTs(kPeerTsval + 2, "second")));
	rcv_ += 6;
	Poll();
	ExpectAckEchoing(ExpectOneTx(), kPeerTsval + 1);
	EXPECT_EQ(ReceivedBytes(), Bytes({ 'f', 'i', 'r', 's', 't', 's', 'e', 'c', 'o', 'n', 'd' }));
	EXPECT_EQ(EventsString(TakeEvents()), "[DATA(11)]");
	// The next ACK: Last.ACK.sent covers "second" now; a TSval of +2 is taken.
	ExpectDelivered(kPeerTsval + 2, "third", kPeerTsval + 2);
}

TEST_F(TcpSyncPaws, Established_OutOfOrderNewerTsval_NotRecorded)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	Mark();
	Inject(DataTs(kPeerTsval + 50, "later").seq(P(rcv_ + 100)));
	ExpectAckEchoing(ExpectOneTx(), kPeerTsval);
	EXPECT_EQ(Moved(), In(1, { { "tcp_ooo_queued", 1 } }));
	// Had +50 become TS.Recent, +3 would now fail PAWS.
	ExpectDelivered(kPeerTsval + 3, "now", kPeerTsval + 3);
}

TEST_F(TcpSyncPaws, Established_IdleOver24Days_TsRecentInvalidSegmentTaken)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	const uint64_t idle_ms = 25ull * 86400 * 1000;

	Advance(idle_ms);
	ExpectNoTx();
	// The ARP entry may have gone too; the peer says who it is again.
	ASSERT_NO_FATAL_FAILURE(TeachPeer(kPeerIp, kPeerMac));
	our_ts_ += (uint32_t)idle_ms;   // our clock ran as long
	// A 1 ms peer clock has run past its sign bit: its TSval looks older
	// than TS.Recent. RFC 7323 §5.5: TS.Recent is invalid after 24 days
	// idle, so the segment is accepted and its TSval recorded.
	const uint32_t tsval = kPeerTsval + (uint32_t)idle_ms;
	ASSERT_LT((int32_t)(tsval - kPeerTsval), 0) << "looks older to PAWS";
	ExpectDelivered(tsval, "awake", tsval);
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

class TcpSyncPawsWrap : public TcpSyncPaws {
protected:
	TcpSyncPawsWrap() { peer_ts_ = 0xfffffff0u; }
};

TEST_F(TcpSyncPawsWrap, Established_TsvalWrappedPast2To32_IsNewer)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ExpectDelivered(0x00000010u, "wrapped", 0x00000010u);
	// Now 0xfffffff8 is 24 ticks older than TS.Recent.
	ExpectPawsRejected(0xfffffff8u, 0x00000010u);
}

TEST_F(TcpSyncPaws, TimeWait_OlderTsval_PawsAck)
{
	ASSERT_NO_FATAL_FAILURE(Open());
	ASSERT_NO_FATAL_FAILURE(Shutdown());
	ASSERT_NO_FATAL_FAILURE(PeerAcksAll());
	Inject(Peer(kFin | kAck));
	rcv_++;
	ExpectAckEchoing(ExpectOneTx(), kPeerTsval);
	ExpectEvents({ DTCP_EV_PEER_CLOSED, DTCP_EV_CLOSED });
	ASSERT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
	Mark();
	Inject(Bare().data("x").ts(kPeerTsval - 1, our_ts_));
	ExpectAckEchoing(ExpectOneTx(), kPeerTsval);
	EXPECT_EQ(Moved(), In(1, { { "tcp_paws_rejected", 1 } }));
	EXPECT_EQ(Count(DTCP_TCP_TIME_WAIT), 1u);
}

// --- 5. Moving data in ESTABLISHED ------------------------------------------------------

TEST_F(TcpSync, Established_InOrderSegments_DeliveredAckedWindowStaysFull)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	const Bytes stream = Pattern(3000, 11);

	for (int i = 0; i < 3; i++) {
		Mark();
		Inject(Peer(kPsh | kAck).data(Slice(stream, 1000 * i, 1000)));
		rcv_ += 1000;
		ExpectAck(ExpectOneTx(), P(rcv_));
		EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Slice(stream, 1000 * i, 1000));
		EXPECT_EQ(Moved(), In(1, { { "tcp_data_rx", 1 }, { "tcp_events", 1 } }));
		ExpectConn(DTCP_TCP_ESTABLISHED);
	}
	EXPECT_EQ(ReceivedBytes(), stream);
}

TEST_F(TcpSync, Established_SameSegmentTwice_DeliveredOnce)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	const Seg seg = Peer(kPsh | kAck).data("hello");

	Inject(seg);
	rcv_ += 5;
	ExpectAck(ExpectOneTx(), P(6));
	ExpectEvent(DTCP_EV_DATA);
	Mark();
	Inject(seg);
	ExpectAck(ExpectOneTx(), P(6));
	ExpectNoEvents();
	EXPECT_EQ(Moved(), In(1, { { "tcp_seq_unacceptable", 1 } }));
	EXPECT_EQ(ReceivedBytes(), Bytes({ 'h', 'e', 'l', 'l', 'o' }));
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSync, Established_OverlappingSegment_DeliversOnlyNewBytes)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	const Bytes stream = Pattern(15, 5);

	Inject(Peer(kPsh | kAck).data(Slice(stream, 0, 10)));
	rcv_ += 10;
	ExpectAck(ExpectOneTx(), P(11));
	ExpectEvent(DTCP_EV_DATA);
	Mark();
	// Octets 5..14: the first five are old.
	Inject(Peer(kPsh | kAck).seq(P(6)).data(Slice(stream, 5, 10)));
	rcv_ += 5;
	ExpectAck(ExpectOneTx(), P(16));
	EXPECT_EQ(ExpectEvent(DTCP_EV_DATA).data, Slice(stream, 10, 5));
	EXPECT_EQ(Moved(), In(1, { { "tcp_dup_data", 1 }, { "tcp_data_rx", 1 },
				   { "tcp_events", 1 } }));
	EXPECT_EQ(ReceivedBytes(), stream);
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSync, Established_BurstPastWindow_TrimmedAtAdvertisedEdge)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	const Bytes stream = Pattern(6000, 9);

	// Three segments of 2000 in one burst: the window the peer was given
	// ends at 4096, so the third is cut to its first 96 octets.
	for (int i = 0; i < 3; i++)
		InjectOnly(Frame(Peer(kPsh | kAck).seq(P(1 + 2000 * i)).data(Slice(stream, 2000 * i, 2000))));
	Poll();
	rcv_ += kRcvBuf;
	ExpectAck(ExpectOneTx(), P(rcv_));
	std::vector<Event> evs = TakeEvents();
	EXPECT_EQ(EventsString(evs), "[DATA(4096)]");
	EXPECT_EQ(ReceivedBytes(), Slice(stream, 0, kRcvBuf));
	Deltas want = In(1, { { "tcp_data_rx", 3 }, { "tcp_events", 1 } });
	want["rx_frames"] = want["ip_rx"] = want["tcp_rx"] = 3;
	EXPECT_EQ(Moved(), want);
	ExpectConn(DTCP_TCP_ESTABLISHED);

	// The rest, sent again from the edge, is taken.
	Mark();
	Inject(Peer(kPsh | kAck).data(Slice(stream, kRcvBuf, 6000 - kRcvBuf)));
	rcv_ += 6000 - kRcvBuf;
	ExpectAck(ExpectOneTx(), P(rcv_));
	EXPECT_EQ(ReceivedBytes(), stream);
	EXPECT_EQ(Moved(), In(1, { { "tcp_data_rx", 1 }, { "tcp_events", 1 } }));
}

TEST_F(TcpSync, Established_ZeroWindowInBurst_OnlyTheAckCounts)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	const Bytes stream = Pattern(4200, 13);

	// Two segments fill the window in one burst; at RCV.WND = 0 a segment
	// at RCV.NXT is acceptable for its ACK only (§3.10.7.4 first check) and
	// one past it is not acceptable at all.
	InjectOnly(Frame(Peer(kAck).data(Slice(stream, 0, 2048))));
	InjectOnly(Frame(Peer(kAck).seq(P(1 + 2048)).data(Slice(stream, 2048, 2048))));
	InjectOnly(Frame(Peer(kPsh | kAck).seq(P(1 + kRcvBuf)).data(Slice(stream, kRcvBuf, 104))));
	InjectOnly(Frame(Peer().seq(P(2 + kRcvBuf))));
	Poll();
	rcv_ += kRcvBuf;
	ExpectAck(ExpectOneTx(), P(rcv_));
	EXPECT_EQ(EventsString(TakeEvents()), "[DATA(4096)]");
	EXPECT_EQ(ReceivedBytes(), Slice(stream, 0, kRcvBuf));
	Deltas want = In(1, { { "tcp_data_rx", 2 }, { "tcp_ack_rx", 1 },
			      { "tcp_seq_unacceptable", 1 }, { "tcp_events", 1 } });
	want["rx_frames"] = want["ip_rx"] = want["tcp_rx"] = 4;
	EXPECT_EQ(Moved(), want);
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSync, Established_DataWithoutAckBit_DroppedSilently)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	// §3.10.7.4 fifth: "if the ACK bit is off, drop the segment and return".
	EXPECT_TRUE(Dropped(Frame(Peer(kPsh).data("no ack")),
			    { { "ip_rx", 1 }, { "tcp_rx", 1 }, { "tcp_no_ack", 1 } }));
	ExpectNoEvents();
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSync, Established_DataAndFinPastRightEdge_DataTrimmedFinNotTaken)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	const Bytes data = Pattern(kRcvBuf + 50, 2);

	Inject(Peer(kFin | kPsh | kAck).data(data));
	rcv_ += kRcvBuf;
	ExpectAck(ExpectOneTx(), P(rcv_));
	EXPECT_EQ(EventsString(TakeEvents()), "[DATA(4096)]") << "no PEER_CLOSED";
	EXPECT_EQ(ReceivedBytes(), Slice(data, 0, kRcvBuf));
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSync, Established_DataWithFin_DeliveredThenCloseWaitOneAck)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	Inject(Peer(kFin | kPsh | kAck).data("last words"));
	rcv_ += 11;
	ExpectAck(ExpectOneTx(), P(rcv_));
	std::vector<Event> evs = ExpectEvents({ DTCP_EV_DATA, DTCP_EV_PEER_CLOSED });
	EXPECT_EQ(ReceivedBytes(), Bytes({ 'l', 'a', 's', 't', ' ', 'w', 'o', 'r', 'd', 's' }));
	EXPECT_EQ(Moved(), In(1, { { "tcp_data_rx", 1 }, { "tcp_events", 2 } }));
	ExpectConn(DTCP_TCP_CLOSE_WAIT);
}

class TcpSyncSend : public TcpSync {
protected:
	// Our data segments in frames: each at most mss, back to back from
	// O(snd_), PSH on the last of what was queued only when last_is_end.
	Bytes ExpectData(const std::vector<Bytes> &frames, uint16_t mss, bool last_is_end)
	{
		Bytes got;

		for (size_t i = 0; i < frames.size(); i++) {
			TcpSeg s = ParseTcp(frames[i]);
			bool last = i + 1 == frames.size() && last_is_end;

			ExpectSeg(frames[i], last ? "PA" : "A", O(snd_), P(rcv_),
				  WinField(kRcvBuf));
			EXPECT_GT(s.payload.size(), 0u);
			EXPECT_LE(s.payload.size(), mss) << "segment " << i;
			got.insert(got.end(), s.payload.begin(), s.payload.end());
			snd_ += (uint32_t)s.payload.size();
		}
		return got;
	}

	// Bytes carried by each data segment, in order.
	static std::vector<size_t> Sizes(const std::vector<Bytes> &frames)
	{
		std::vector<size_t> v;

		for (const Bytes &f : frames)
			v.push_back(ParseTcp(f).payload.size());
		return v;
	}
};

TEST_F(TcpSyncSend, Established_ZeroCopySend_ChainSplitAtMssPshOnLast)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	const Bytes data = Pattern(1500, 4);
	const size_t cuts[] = { 0, 500, 1200, 1500 };
	struct rte_mbuf *head = nullptr, *first = nullptr;

	for (int i = 0; i < 3; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool_);

		ASSERT_NE(m, nullptr);
		size_t n = cuts[i + 1] - cuts[i];
		char *p = rte_pktmbuf_append(m, (uint16_t)n);
		ASSERT_NE(p, nullptr);
		memcpy(p, data.data() + cuts[i], n);
		if (head == nullptr)
			head = first = m;
		else
			ASSERT_EQ(rte_pktmbuf_chain(head, m), 0);
	}
	ASSERT_EQ(head->pkt_len, 1500u);
	ASSERT_EQ(dtcp_tcp_send(w_, conn_, head), 0);
	EXPECT_EQ(Info().send_queued, 1500u);
	Poll();
	// No copy: the frame in flight refers to the application's mbuf.
	EXPECT_GE(rte_mbuf_refcnt_read(first), 2);
	std::vector<Bytes> tx = TakeTx();
	EXPECT_EQ(Sizes(tx), (std::vector<size_t>{ 1460, 40 }));
	EXPECT_EQ(ExpectData(tx, 1460, true), data);
	EXPECT_EQ(Moved(), (Deltas{ { "tx_frames", 2 }, { "ip_tx", 2 }, { "tcp_tx", 2 },
				    { "tcp_tx_data", 2 }, { "tcp_tx_data_bytes", 1500 } }));
	EXPECT_EQ(Info().snd_nxt, O(1501));
	EXPECT_EQ(Info().snd_una, O(1));

	// Acknowledged: the queue is empty and its mbufs back in the pool.
	una_ = 1501;
	Inject(Peer());
	ExpectNoTx();
	EXPECT_EQ(Info().send_queued, 0u);
	EXPECT_EQ(dtcp_tcp_send_space(conn_), cfg_.tcp_sndbuf);
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSyncSend, Established_SendCopy_SplitAtMssPshOnLast)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	una_ = 1;
	const Bytes data = Pattern(5000, 8);

	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), 5000), 5000);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	EXPECT_EQ(Sizes(tx), (std::vector<size_t>{ 1460, 1460, 1460, 620 }));
	EXPECT_EQ(ExpectData(tx, 1460, true), data);
	EXPECT_EQ(Moved(), (Deltas{ { "tx_frames", 4 }, { "ip_tx", 4 }, { "tcp_tx", 4 },
				    { "tcp_tx_data", 4 }, { "tcp_tx_data_bytes", 5000 } }));
	una_ = snd_;
	Inject(Peer());
	ExpectNoTx();
	ExpectConn(DTCP_TCP_ESTABLISHED);
	EXPECT_EQ(Info().send_queued, 0u);
}

TEST_F(TcpSyncSend, Established_PeerMss536_SegmentsAtMost536)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassiveWith(kPeerWin, 536));
	const Bytes data = Pattern(2000, 6);

	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), 2000), 2000);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	EXPECT_EQ(Sizes(tx), (std::vector<size_t>{ 536, 536, 536, 392 }));
	EXPECT_EQ(ExpectData(tx, 536, true), data);
	una_ = snd_;
	Inject(Peer());
	ExpectNoTx();
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSyncSend, Established_PeerWindow1000_AtMost1000InFlight)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassiveWith(1000, kPeerMss));
	const Bytes data = Pattern(2500, 12);
	Bytes sent;

	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), 2500), 2500);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	EXPECT_EQ(Sizes(tx), (std::vector<size_t>{ 1000 }));
	Bytes b = ExpectData(tx, 1000, false);
	sent.insert(sent.end(), b.begin(), b.end());
	// Nothing more until the peer makes room, however long we wait for it.
	Poll();
	ExpectNoTx();
	EXPECT_EQ(Info().snd_nxt - Info().snd_una, 1000u);

	// Half acknowledged: 500 octets of room, and no more.
	una_ = 501;
	Inject(Peer().win(1000));
	tx = TakeTx();
	EXPECT_EQ(Sizes(tx), (std::vector<size_t>{ 500 }));
	b = ExpectData(tx, 1000, false);
	sent.insert(sent.end(), b.begin(), b.end());
	EXPECT_EQ(Info().snd_nxt - Info().snd_una, 1000u);

	// The rest fits: the last of what was queued carries PSH.
	una_ = snd_;
	Inject(Peer().win(1000));
	tx = TakeTx();
	EXPECT_EQ(Sizes(tx), (std::vector<size_t>{ 1000 }));
	b = ExpectData(tx, 1000, true);
	sent.insert(sent.end(), b.begin(), b.end());
	EXPECT_EQ(sent, data);

	una_ = snd_;
	Inject(Peer().win(1000));
	ExpectNoTx();
	EXPECT_EQ(Info().send_queued, 0u);
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpSyncSend, Established_WindowUpdateWithoutNewAck_SendsMore)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassiveWith(1000, kPeerMss));
	const Bytes data = Pattern(1500, 14);

	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), 1500), 1500);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	EXPECT_EQ(Sizes(tx), (std::vector<size_t>{ 1000 }));
	Bytes sent = ExpectData(tx, 1000, false);
	// Same SEG.SEQ, same SEG.ACK (SND.WL1, SND.WL2), a wider window.
	Inject(Peer().win(1500));
	tx = TakeTx();
	EXPECT_EQ(Sizes(tx), (std::vector<size_t>{ 500 }));
	Bytes more = ExpectData(tx, 1000, true);
	sent.insert(sent.end(), more.begin(), more.end());
	EXPECT_EQ(sent, data);
	EXPECT_EQ(Info().snd_wnd, 1500u);
	una_ = snd_;
	Inject(Peer().win(1500));
	ExpectNoTx();
	ExpectConn(DTCP_TCP_ESTABLISHED);
}

} // namespace
