// SPDX-License-Identifier: BSD-3-Clause
// TCP packet-level tests: opening a connection. The opening transitions of
// RFC 9293 Figure 5, simultaneous open (Figure 7) and old duplicate SYNs
// (Figure 8), the rules of §3.10.7.1 (CLOSED), §3.10.7.2 (LISTEN) and
// §3.10.7.3 (SYN-SENT), the options a SYN carries (RFC 9293 §3.7.1,
// RFC 6691, RFC 7323, RFC 2018), the bounds on half-open and unaccepted
// connections, SYN cookies, and RFC 6528 initial sequence numbers.
#include "tcp_harness.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace {

// --- Counters ---------------------------------------------------------------------------

// What a segment received moves on its way in, besides rx_frames (which
// Dropped() adds itself), and the counters given.
Deltas RxSeg(Deltas d)
{
	d["ip_rx"] += 1;
	d["tcp_rx"] += 1;
	return d;
}

// The same with rx_frames, for a Moved() over one injected frame.
Deltas RxFrame(Deltas d)
{
	d = RxSeg(d);
	d["rx_frames"] += 1;
	return d;
}

// What n segments we send move, besides the counters given.
Deltas TxSeg(Deltas d, uint64_t n = 1)
{
	d["tcp_tx"] += n;
	d["ip_tx"] += n;
	d["tx_frames"] += n;
	return d;
}

uint64_t At(const Deltas &d, const std::string &name)
{
	auto it = d.find(name);

	return it == d.end() ? 0 : it->second;
}

// --- The fixture ------------------------------------------------------------------------

class TcpHandshake : public TcpTest {
protected:
	// Connections of the worker in state s now.
	uint64_t Count(enum dtcp_tcp_state s) const
	{
		uint64_t c[DTCP_TCP_STATE_MAX];

		dtcp_tcp_state_counts(w_, c);
		return c[s];
	}

	// Every connection the worker holds, whatever its state.
	uint64_t CountAll() const
	{
		uint64_t c[DTCP_TCP_STATE_MAX], n = 0;

		dtcp_tcp_state_counts(w_, c);
		for (unsigned i = 0; i < DTCP_TCP_STATE_MAX; i++)
			n += c[i];
		return n;
	}

	// Listen on port with these bounds (0: the configured ones).
	void ListenWith(uint32_t syn_backlog, uint32_t accept_backlog, uint16_t port = kOurPort)
	{
		struct dtcp_listen_opts o = {};

		o.syn_backlog = syn_backlog;
		o.accept_backlog = accept_backlog;
		ASSERT_EQ(dtcp_tcp_listen(w_, 0, port, &o, OnEvent, this, &listener_), 0);
		ASSERT_NE(listener_, nullptr);
		lport_ = port;
	}

	// PeerSyn() from another port of the peer.
	Seg SynFrom(uint16_t sport) const
	{
		Seg s = PeerSyn();

		s.sport(sport);
		return s;
	}

	// The first half of a passive open (a listener must exist): syn in, our
	// SYN-ACK out and checked against it; records what was agreed the way
	// OpenPassive() does, and the 4-tuple; snd_ = rcv_ = 1. Returns our SYN-ACK.
	TcpSeg SynIn(const Seg &syn)
	{
		TcpSeg offered = ParseTcp(Frame(syn));

		lport_ = syn.dst_port;
		rport_ = syn.src_port;
		ts_ok_ = cfg_.tcp_timestamps && offered.has_ts;
		sack_ok_ = cfg_.tcp_sack && offered.sack_ok;
		ws_ok_ = cfg_.tcp_window_scale && offered.has_ws;
		if (offered.has_ts)
			peer_ts_ = offered.tsval;
		if (offered.has_ws)
			peer_ws_ = offered.ws;
		Inject(syn);
		TcpSeg sa = ExpectSynAck(ExpectOneTx(), offered);
		snd_ = rcv_ = 1;
		return sa;
	}

	// The second half: the peer's ACK, nothing sent, DTCP_EV_ACCEPTABLE and
	// (auto_accept_) the connection taken; conn_ is it.
	void AckIn()
	{
		size_t before = accepted_.size();

		Inject(PeerAck());
		ExpectNoTx();
		Event e = ExpectEvent(DTCP_EV_ACCEPTABLE);
		EXPECT_EQ(e.conn, listener_);
		if (auto_accept_) {
			ASSERT_EQ(accepted_.size(), before + 1);
			conn_ = accepted_.back();
		}
	}

	// dtcp_tcp_connect from lport to kPeerIp:rport; our SYN out and checked.
	TcpSeg SynOut(uint16_t rport = kPeerPort, uint16_t lport = kOurPort)
	{
		if (Connect(rport, lport) == nullptr)
			return TcpSeg();
		Poll();
		ts_ok_ = cfg_.tcp_timestamps != 0;
		sack_ok_ = cfg_.tcp_sack != 0;
		ws_ok_ = cfg_.tcp_window_scale != 0;
		snd_ = rcv_ = 1;
		return ExpectSyn(ExpectOneTx());
	}

	// The peer's SYN-ACK to our SYN, offering back what we offered (as
	// OpenActive() makes it), with the sequence and acknowledgment numbers given.
	Seg PeerSynAck(uint32_t seq, uint32_t ack) const
	{
		Seg sa = Seg().syn().ack().sport(rport_).dport(lport_).seq(seq).ack_(ack);

		sa.win(kPeerWin).mss(kPeerMss);
		if (cfg_.tcp_sack)
			sa.sack_ok();
		if (cfg_.tcp_timestamps)
			sa.ts(peer_ts_, our_ts_);
		if (cfg_.tcp_window_scale)
			sa.nop().ws(peer_ws_);
		return sa;
	}

	// The ACK that completes an active open: O(1), P(1), our whole window.
	void ExpectHandshakeAck(const Bytes &frame)
	{
		TcpSeg a = ExpectSeg(frame, "A", O(1), P(1), WinField(cfg_.tcp_rcvbuf));
		if (ts_ok_) {
			EXPECT_EQ(a.tsecr, peer_ts_) << "TSecr echoes the SYN-ACK's TSval";
		}
	}

	// The peer's data at P(rcv_) in, our ACK of it out, one DATA event.
	void DataInAcked(const std::string &text, struct dtcp_conn *c)
	{
		if (ts_ok_)
			peer_ts_ += 7;   // a newer TSval, to see it echoed
		Seg d = PeerAck();

		d.psh().data(text);
		Inject(d);
		rcv_ += (uint32_t)text.size();
		TcpSeg a = ExpectSeg(ExpectOneTx(), "A", O(snd_), P(rcv_), WinField(cfg_.tcp_rcvbuf));
		if (ts_ok_) {
			EXPECT_EQ(a.tsecr, peer_ts_);
		}
		Event e = ExpectEvent(DTCP_EV_DATA);
		EXPECT_EQ(e.conn, c);
		EXPECT_EQ(std::string(e.data.begin(), e.data.end()), text);
	}
};

// The opening transitions, run without RFC 7323 and RFC 2018 options
// ("Plain") and with timestamps, window scaling and SACK ("TsWsSack").
class TcpOpening : public TcpHandshake, public ::testing::WithParamInterface<bool> {
protected:
	void SetUp() override
	{
		TcpHandshake::SetUp();
		cfg_.tcp_timestamps = GetParam();
		cfg_.tcp_window_scale = GetParam();
		cfg_.tcp_sack = GetParam();
		peer_ws_ = 2;
	}

	// The window the peer's first segments announce, as we read it.
	uint32_t PeerWnd(bool scaled) const
	{
		return (uint32_t)kPeerWin << (scaled && ws_ok_ ? peer_ws_ : 0);
	}
};

// ==== RFC 9293 Figure 5: the opening transitions =========================================

TEST_P(TcpOpening, Closed_Listen_Listen)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	EXPECT_STREQ(dtcp_tcp_state_name(dtcp_conn_state(listener_)), "LISTEN");
	EXPECT_EQ(Count(DTCP_TCP_LISTEN), 1u);
	EXPECT_EQ(CountAll(), 1u);
	Poll();
	ExpectNoTx();
	ExpectNoEvents();
	EXPECT_EQ(ToString(Moved()), ToString(Deltas{}));
}

TEST_F(TcpHandshake, Closed_Listen_BadArgumentsRefused)
{
	Start();
	struct dtcp_conn *l = nullptr;
	struct dtcp_listen_opts o = {};

	EXPECT_EQ(dtcp_tcp_listen(w_, 0, 0, &o, OnEvent, this, &l), -EINVAL) << "port 0";
	EXPECT_EQ(dtcp_tcp_listen(w_, Ip(198, 18, 0, 99), kOurPort, &o, OnEvent, this, &l),
		  -EADDRNOTAVAIL)
		<< "not our address";
	ASSERT_NO_FATAL_FAILURE(Listen());
	EXPECT_EQ(dtcp_tcp_listen(w_, 0, kOurPort, &o, OnEvent, this, &l), -EADDRINUSE);
	EXPECT_EQ(Count(DTCP_TCP_LISTEN), 1u);
	EXPECT_EQ(CountAll(), 1u);
}

TEST_P(TcpOpening, Listen_Syn_SynReceivedSynAckSent)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Mark();
	TcpSeg sa = SynIn(PeerSyn());
	EXPECT_EQ(sa.mss, 1460) << "MTU 1500 less 40";
	EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_syn_rx", 1 },
							      { "tcp_passive_open", 1 },
							      { "tcp_tx_syn", 1 } }))));
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 1u);
	EXPECT_EQ(Count(DTCP_TCP_LISTEN), 1u);
	EXPECT_EQ(CountAll(), 2u);
	ExpectNoEvents();
}

TEST_P(TcpOpening, SynReceived_Ack_EstablishedAcceptableAccepted)
{
	auto_accept_ = false;
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	SynIn(PeerSyn());
	Mark();
	Inject(PeerAck());
	ExpectNoTx();
	Event e = ExpectEvent(DTCP_EV_ACCEPTABLE);
	EXPECT_EQ(e.conn, listener_) << "ACCEPTABLE goes to the listener";
	EXPECT_EQ(ToString(Moved()), ToString(RxFrame({ { "tcp_established", 1 },
							{ "tcp_ack_rx", 1 },
							{ "tcp_events", 1 } })));
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 0u);
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 1u);

	struct dtcp_conn *c = AcceptOne();
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(AcceptOne(), nullptr) << "one connection only";
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_accepted), 1u);
	// The ACK's window is the first the peer scales (RFC 7323 §2.2).
	ExpectOpened(PeerWnd(true), c);
	ExpectNoEvents();
	// And it carries data.
	DataInAcked("hello", c);
}

TEST_P(TcpOpening, Closed_Connect_SynSent)
{
	Start();
	TcpSeg syn = SynOut();
	EXPECT_EQ(syn.mss, 1460) << "MTU 1500 less 40";
	EXPECT_EQ(ToString(Moved()), ToString(TxSeg({ { "tcp_active_open", 1 },
						      { "tcp_tx_syn", 1 } })));
	ExpectState(DTCP_TCP_SYN_SENT);
	EXPECT_EQ(Count(DTCP_TCP_SYN_SENT), 1u);
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.iss, O(0));
	EXPECT_EQ(i.snd_una, O(0));
	EXPECT_EQ(i.snd_nxt, O(1));
	ExpectNoEvents();
}

TEST_P(TcpOpening, SynSent_SynAck_EstablishedAckSentConnected)
{
	Start();
	SynOut();
	Mark();
	Inject(PeerSynAck(P(0), O(1)));
	ExpectHandshakeAck(ExpectOneTx());
	Event e = ExpectEvent(DTCP_EV_CONNECTED);
	EXPECT_EQ(e.conn, conn_);
	EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_established", 1 },
							      { "tcp_ack_rx", 1 },
							      { "tcp_events", 1 },
							      { "tcp_tx_ack_only", 1 } }))));
	// A SYN-ACK's window is never scaled (RFC 7323 §2.2).
	ExpectOpened(PeerWnd(false), conn_);
	EXPECT_EQ(Count(DTCP_TCP_SYN_SENT), 0u);
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 1u);
	DataInAcked("hi", conn_);
}

// Our handshake ACK was lost and the peer sends its SYN-ACK again: nothing
// in it is new (§3.10.7.4 first check), so it is answered with an ACK,
// which gives the peer the ACK it missed.
TEST_P(TcpOpening, Established_SynAckAgain_AckResent)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenActive());
	Mark();
	Inject(PeerSynAck(P(0), O(1)));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1), WinField(cfg_.tcp_rcvbuf));
	ExpectNoEvents();
	ExpectState(DTCP_TCP_ESTABLISHED);
	EXPECT_EQ(At(Moved(), "tcp_established"), 0u);
	DataInAcked("still one connection", conn_);
}

// RFC 9293 Figure 7: both SYNs cross. Our SYN-ACK repeats our ISS; the
// peer's SYN-ACK (line 6) is answered with an ACK, and its ACK of our
// SYN makes the connection ESTABLISHED.
TEST_P(TcpOpening, SynSent_SynWithoutAck_SimultaneousOpen)
{
	Start();
	SynOut();
	Seg syn = Seg().syn().sport(rport_).dport(lport_).seq(P(0)).win(kPeerWin).mss(kPeerMss);
	if (cfg_.tcp_sack)
		syn.sack_ok();
	if (cfg_.tcp_timestamps)
		syn.ts(peer_ts_, 0);
	if (cfg_.tcp_window_scale)
		syn.nop().ws(peer_ws_);
	TcpSeg offered = ParseTcp(Frame(syn));

	Mark();
	Inject(syn);
	ExpectSynAck(ExpectOneTx(), offered);
	EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_simultaneous_open", 1 },
							      { "tcp_syn_rx", 1 },
							      { "tcp_tx_syn", 1 } }))));
	ExpectState(DTCP_TCP_SYN_RECEIVED);
	ExpectNoEvents();

	// Line 6: the peer's SYN-ACK. Its SYN is old news (§3.10.7.4 first
	// check: nothing of it is new), but it is answered with an ACK.
	Inject(PeerSynAck(P(0), O(1)));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1), WinField(cfg_.tcp_rcvbuf));
	ExpectNoEvents();

	// The peer's ACK of our SYN-ACK.
	Inject(PeerAck());
	ExpectNoTx();
	Event e = ExpectEvent(DTCP_EV_CONNECTED);
	EXPECT_EQ(e.conn, conn_);
	ExpectOpened(PeerWnd(true), conn_);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_established), 1u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_passive_open), 0u);
	DataInAcked("both", conn_);
}

TEST_P(TcpOpening, SynReceived_RstAtRcvNxt_BackToListen)
{
	cfg_.tcp_syncookies = 0;
	Start();
	ASSERT_NO_FATAL_FAILURE(ListenWith(1, 0));
	SynIn(PeerSyn());
	EXPECT_TRUE(Dropped(Frame(Seg().rst().seq(P(1))), RxSeg({ { "tcp_rst_accepted", 1 } })));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 0u);
	EXPECT_EQ(Count(DTCP_TCP_LISTEN), 1u);
	EXPECT_EQ(CountAll(), 1u);
	// The listener's only half-open slot is free again.
	SynIn(PeerSyn());
	AckIn();
	ExpectOpened(PeerWnd(true), conn_);
}

TEST_P(TcpOpening, SynSent_RstWithAcceptableAck_ClosedRefused)
{
	Start();
	SynOut();
	EXPECT_TRUE(Dropped(Frame(Seg().rst().ack().seq(0).ack_(O(1))),
			    RxSeg({ { "tcp_rst_accepted", 1 },
				    { "tcp_refused", 1 },
				    { "tcp_events", 1 } })));
	Event e = ExpectEvent(DTCP_EV_CLOSED);
	EXPECT_EQ(e.error, -ECONNREFUSED);
	EXPECT_EQ(conn_, nullptr);
	EXPECT_EQ(CountAll(), 0u);
	// No SYN goes again.
	Advance(cfg_.tcp_rto_init_ms * 2);
	ExpectNoTx();
}

TEST_P(TcpOpening, Listen_Close_Closed)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	dtcp_tcp_close(w_, listener_);
	listener_ = nullptr;
	Poll();
	ExpectNoTx();
	ExpectNoEvents();
	EXPECT_EQ(CountAll(), 0u);
	// The port is closed now (§3.10.7.1).
	Mark();
	Inject(PeerSyn());
	ExpectRstAck(ExpectOneTx(), 0, P(1));
	EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_closed_rst_tx", 1 },
							      { "tcp_tx_rst", 1 } }))));
}

// A listener closed with one connection half open and one established but
// not accepted: both are reset with <SEQ=SND.NXT><CTL=RST> (§3.10.5).
TEST_P(TcpOpening, Listen_CloseWithPendingConnections_ResetsThem)
{
	auto_accept_ = false;
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	SynIn(SynFrom(40001));
	AckIn();
	SynIn(SynFrom(40002));
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 1u);
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 1u);
	Mark();
	dtcp_tcp_close(w_, listener_);
	listener_ = nullptr;
	Poll();
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 2u);
	std::vector<uint16_t> ports;
	for (const Bytes &f : tx) {
		rport_ = ParseTcp(f).dport;
		ports.push_back(rport_);
		ExpectRst(f, O(1));
	}
	std::sort(ports.begin(), ports.end());
	EXPECT_EQ(ports, (std::vector<uint16_t>{ 40001, 40002 }));
	EXPECT_EQ(ToString(Moved()), ToString(TxSeg({ { "tcp_aborted", 2 }, { "tcp_tx_rst", 2 } }, 2)));
	ExpectNoEvents();
	EXPECT_EQ(CountAll(), 0u);
	// What comes from them now finds the port closed.
	rport_ = 40001;
	Inject(PeerAck());
	ExpectRst(ExpectOneTx(), O(1));
}

TEST_P(TcpOpening, SynSent_Close_ClosedSilently)
{
	Start();
	SynOut();
	Mark();
	dtcp_tcp_close(w_, conn_);
	conn_ = nullptr;
	Poll();
	ExpectNoTx();
	ExpectNoEvents();
	EXPECT_EQ(ToString(Moved()), ToString(Deltas{}));
	EXPECT_EQ(CountAll(), 0u);
	Advance(cfg_.tcp_rto_init_ms * 2);
	ExpectNoTx();
	// A late SYN-ACK finds no connection: <SEQ=SEG.ACK><CTL=RST>.
	Mark();
	Inject(PeerSynAck(P(0), O(1)));
	ExpectRst(ExpectOneTx(), O(1));
	EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_closed_rst_tx", 1 },
							      { "tcp_tx_rst", 1 } }))));
}

// ==== RFC 9293 §3.5 Figure 8: recovery from an old duplicate SYN ==========================

// We are TCP Peer A: our SYN is answered by a SYN-ACK for an older SYN of
// ours (line 4); we reset it (line 5) and wait on in SYN-SENT until the
// right SYN-ACK (line 7) arrives.
TEST_P(TcpOpening, Handshake_OldDuplicateSyn_SynSent_ResetsWrongSynAckThenCompletes)
{
	Start();
	SynOut();
	// The peer answers an old SYN of ours, ISS O(-10), with its own ISS.
	Mark();
	Inject(PeerSynAck(P(-5000), O(-9)));
	ExpectRst(ExpectOneTx(), O(-9));
	EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_synsent_bad_ack", 1 },
							      { "tcp_tx_rst", 1 } }))));
	ExpectState(DTCP_TCP_SYN_SENT);
	ExpectNoEvents();
	EXPECT_EQ(Info().irs, 0u) << "nothing taken from the wrong SYN-ACK";

	Inject(PeerSynAck(P(0), O(1)));
	ExpectHandshakeAck(ExpectOneTx());
	ExpectEvent(DTCP_EV_CONNECTED);
	ExpectOpened(PeerWnd(false), conn_);
}

// We are TCP Peer B: an old duplicate SYN (line 3) makes a SYN-RECEIVED
// connection; the peer's RST at our RCV.NXT (line 5) returns it to LISTEN
// without a word to the application; the real SYN (line 6) completes.
TEST_P(TcpOpening, Handshake_OldDuplicateSyn_Listen_RstReturnsToListenThenCompletes)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	peer_ts_ = kPeerTsval - 100000;   // an old SYN carries an old TSval
	Seg old = PeerSyn();
	old.seq(P(-10));
	TcpSeg sa = SynIn(old);
	EXPECT_EQ(sa.ack, P(-9));
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 1u);
	ExpectNoEvents();

	// The peer, in SYN-SENT, answers our SYN-ACK with <SEQ=SEG.ACK><CTL=RST>.
	EXPECT_TRUE(Dropped(Frame(Seg().rst().seq(P(-9))), RxSeg({ { "tcp_rst_accepted", 1 } })));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 0u);
	EXPECT_EQ(Count(DTCP_TCP_LISTEN), 1u);
	EXPECT_EQ(CountAll(), 1u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_reset_rx), 0u) << "no connection the application knew";

	peer_ts_ = kPeerTsval;
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_passive_open), 2u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_established), 1u);
	DataInAcked("fig8", conn_);
}

// The same, but the real SYN arrives before the peer's RST: a new SYN in a
// passive SYN-RECEIVED returns it to LISTEN (§3.10.7.4 fourth), and the
// peer's retransmitted SYN is then answered.
TEST_P(TcpOpening, Handshake_OldDuplicateSyn_SynReceived_NewSynBackToListen)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg old = PeerSyn();
	old.seq(P(-10));
	SynIn(old);
	EXPECT_TRUE(Dropped(Frame(PeerSyn()), RxSeg({ { "tcp_synrcvd_syn", 1 } })));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 0u);
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
}

// ==== More of SYN-RECEIVED (§3.10.7.4 for that state) ======================================

TEST_P(TcpOpening, SynReceived_SameSynAgain_SynAckResent)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	TcpSeg offered = ParseTcp(Frame(PeerSyn()));
	SynIn(PeerSyn());
	Mark();
	Inject(PeerSyn());
	ExpectSynAck(ExpectOneTx(), offered);
	EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_synrcvd_syn_rexmit", 1 },
							      { "tcp_tx_syn", 1 } }))));
	AckIn();
	ExpectOpened(PeerWnd(true), conn_);
}

// §3.10.7.4 fifth: an ACK outside SND.UNA < SEG.ACK =< SND.NXT is answered
// with <SEQ=SEG.ACK><CTL=RST>; the connection stays half open.
TEST_P(TcpOpening, SynReceived_UnacceptableAck_RstSeqSegAck)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	SynIn(PeerSyn());
	for (uint32_t ack : { O(0), O(2), O(-1000) }) {
		SCOPED_TRACE("ack " + std::to_string((int32_t)(ack - O(0))));
		Seg a = PeerAck();
		a.ack_(ack);
		Mark();
		Inject(a);
		ExpectRst(ExpectOneTx(), ack);
		EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_synrcvd_bad_ack", 1 },
								      { "tcp_tx_rst", 1 } }))));
		EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 1u);
	}
	ExpectNoEvents();
	AckIn();
	ExpectOpened(PeerWnd(true), conn_);
}

// RFC 5961 §3.2 (RFC 9293 §3.10.7.4 second): a RST in the window but not at
// RCV.NXT gets a challenge ACK, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
TEST_P(TcpOpening, SynReceived_RstInWindowNotAtRcvNxt_ChallengeAck)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	SynIn(PeerSyn());
	Mark();
	Inject(Seg().rst().seq(P(100)));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1), WinField(cfg_.tcp_rcvbuf));
	EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_rst_challenged", 1 },
							      { "tcp_challenge_ack_tx", 1 },
							      { "tcp_tx_ack_only", 1 } }))));
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 1u);
	AckIn();
}

TEST_P(TcpOpening, SynReceived_NoAck_Dropped)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	SynIn(PeerSyn());
	Seg d = PeerAck();
	d.flags(kPsh).data("early");
	EXPECT_TRUE(Dropped(Frame(d), RxSeg({ { "tcp_no_ack", 1 } })));
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 1u);
	ExpectNoEvents();
}

// Data with the handshake's last ACK: taken, acknowledged, and handed over
// once the connection is accepted.
TEST_P(TcpOpening, SynReceived_AckWithData_EstablishedAndDelivered)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	SynIn(PeerSyn());
	Seg a = PeerAck();
	a.psh().data("first");
	Inject(a);
	rcv_ += 5;
	ExpectSeg(ExpectOneTx(), "A", O(1), P(6), WinField(cfg_.tcp_rcvbuf));
	std::vector<Event> evs = ExpectEvents({ DTCP_EV_ACCEPTABLE, DTCP_EV_DATA });
	ASSERT_EQ(accepted_.size(), 1u);
	conn_ = accepted_.back();
	EXPECT_EQ(evs[1].conn, conn_);
	EXPECT_EQ(std::string(ReceivedBytes().begin(), ReceivedBytes().end()), "first");
	ExpectState(DTCP_TCP_ESTABLISHED);
}

INSTANTIATE_TEST_SUITE_P(Rfc7323, TcpOpening, ::testing::Bool(),
			 [](const ::testing::TestParamInfo<bool> &i) {
				 return i.param ? "TsWsSack" : "Plain";
			 });

// ==== §3.10.7.1 CLOSED ======================================================================

// Every combination of FIN SYN RST PSH ACK URG, with and without data, to a
// port nobody listens on: a RST is ignored; without ACK the answer is
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SEG.LEN counting SYN and FIN;
// with ACK it is <SEQ=SEG.ACK><CTL=RST>.
TEST_F(TcpHandshake, Closed_EveryFlagCombination_RstRules)
{
	Start();
	const uint32_t seq = 0x12345678, ack = 0x9abcdef0;
	lport_ = 9;

	for (int with_data = 0; with_data <= 1; with_data++) {
		for (unsigned f = 0; f < 64; f++) {
			Seg s = Seg().dport(9).flags((uint8_t)f).seq(seq).ack_(ack);
			if (with_data)
				s.data("payload");
			uint32_t len = (with_data ? 7 : 0) + ((f & kSyn) ? 1 : 0) + ((f & kFin) ? 1 : 0);
			SCOPED_TRACE("flags [" + FlagsString((uint8_t)f) + "]" +
				     (with_data ? " with 7 bytes" : ""));
			Mark();
			Inject(s);
			std::vector<Bytes> tx = TakeTx();
			if (f & kRst) {
				EXPECT_EQ(tx.size(), 0u);
				EXPECT_EQ(ToString(Moved()),
					  ToString(RxFrame({ { "tcp_closed_rst_rx", 1 } })));
				continue;
			}
			EXPECT_EQ(tx.size(), 1u);
			if (tx.size() != 1)
				continue;
			if (f & kAck)
				ExpectRst(tx[0], ack);
			else
				ExpectRstAck(tx[0], 0, seq + len);
			EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_closed_rst_tx", 1 },
									      { "tcp_tx_rst", 1 } }))));
		}
	}
	EXPECT_EQ(CountAll(), 0u);
}

TEST_F(TcpHandshake, Closed_PortWithoutListenerBesideAListener_Rst)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen(kOurPort));
	lport_ = (uint16_t)(kOurPort + 1);
	Mark();
	Inject(PeerSyn().dport((uint16_t)(kOurPort + 1)));
	ExpectRstAck(ExpectOneTx(), 0, P(1));
	Inject(Seg().ack().dport((uint16_t)(kOurPort + 1)).seq(P(1)).ack_(O(1)));
	ExpectRst(ExpectOneTx(), O(1));
	EXPECT_EQ(ToString(Moved()), ToString(TxSeg({ { "rx_frames", 2 },
						      { "ip_rx", 2 },
						      { "tcp_rx", 2 },
						      { "tcp_closed_rst_tx", 2 },
						      { "tcp_tx_rst", 2 } },
						    2)));
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 0u);
	EXPECT_EQ(Count(DTCP_TCP_LISTEN), 1u);
}

// ==== §3.10.7.2 LISTEN ======================================================================

// Every flag combination, each from a port of its own: a RST is ignored; an
// ACK (SYN-ACK included) gets <SEQ=SEG.ACK><CTL=RST>; a SYN a SYN-ACK that
// acknowledges the SYN alone (data and FIN on it are not taken); the rest
// is dropped.
TEST_F(TcpHandshake, Listen_EveryFlagCombination_Rules)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	const uint32_t seq = 0x12345678, ack = 0x9abcdef0;
	uint64_t half_open = 0;

	for (int with_data = 0; with_data <= 1; with_data++) {
		for (unsigned f = 0; f < 64; f++) {
			uint16_t sport = (uint16_t)(10000 + with_data * 64 + f);
			Seg s = Seg().sport(sport).flags((uint8_t)f).seq(seq).ack_(ack);
			if (with_data)
				s.data("payload");
			SCOPED_TRACE("flags [" + FlagsString((uint8_t)f) + "]" +
				     (with_data ? " with 7 bytes" : ""));
			rport_ = sport;
			Mark();
			Inject(s);
			std::vector<Bytes> tx = TakeTx();
			if (f & kRst) {
				EXPECT_EQ(tx.size(), 0u);
				EXPECT_EQ(ToString(Moved()), ToString(RxFrame({ { "tcp_listen_rst", 1 } })));
			} else if (f & kAck) {
				EXPECT_EQ(tx.size(), 1u);
				if (tx.size() == 1)
					ExpectRst(tx[0], ack);
				EXPECT_EQ(ToString(Moved()),
					  ToString(RxFrame(TxSeg({ { "tcp_listen_ack_rst", 1 },
								   { "tcp_tx_rst", 1 } }))));
			} else if (f & kSyn) {
				EXPECT_EQ(tx.size(), 1u);
				if (tx.size() == 1)
					ExpectSynAck(tx[0], ParseTcp(Frame(s)));
				EXPECT_EQ(ToString(Moved()),
					  ToString(RxFrame(TxSeg({ { "tcp_syn_rx", 1 },
								   { "tcp_passive_open", 1 },
								   { "tcp_tx_syn", 1 } }))));
				half_open++;
			} else {
				EXPECT_EQ(tx.size(), 0u);
				EXPECT_EQ(ToString(Moved()),
					  ToString(RxFrame({ { "tcp_listen_no_syn", 1 } })));
			}
			EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), half_open);
		}
	}
	EXPECT_EQ(half_open, 16u) << "SYN without ACK or RST: 8 combinations, twice";
	ExpectNoEvents();
}

TEST_F(TcpHandshake, Listen_Rst_IgnoredNothingSent)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	EXPECT_TRUE(Dropped(Frame(Seg().rst().seq(P(0))), RxSeg({ { "tcp_listen_rst", 1 } })));
	EXPECT_TRUE(Dropped(Frame(Seg().rst().ack().seq(P(0)).ack_(O(1))),
			    RxSeg({ { "tcp_listen_rst", 1 } })));
	EXPECT_TRUE(Dropped(Frame(Seg().rst().syn().seq(P(0))), RxSeg({ { "tcp_listen_rst", 1 } })));
	EXPECT_EQ(CountAll(), 1u);
}

TEST_F(TcpHandshake, Listen_AnyAck_RstSeqSegAck)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg plain = Seg().ack().seq(P(1)).ack_(0x01020304);
	Seg synack = Seg().syn().ack().seq(P(0)).ack_(0x0a0b0c0d).mss(1460);
	Seg data = Seg().ack().psh().seq(P(1)).ack_(0x11223344).data("xyz");
	for (const Seg *s : { &plain, &synack, &data }) {
		SCOPED_TRACE(ToString(ParseTcp(Frame(*s))));
		Mark();
		Inject(*s);
		ExpectRst(ExpectOneTx(), s->ack_no);
		EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_listen_ack_rst", 1 },
								      { "tcp_tx_rst", 1 } }))));
	}
	EXPECT_EQ(CountAll(), 1u);
}

TEST_F(TcpHandshake, Listen_NoSynAckOrRst_Dropped)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	for (uint8_t f : { (uint8_t)0, kFin, kPsh, kUrg, (uint8_t)(kFin | kPsh | kUrg) }) {
		SCOPED_TRACE("flags [" + FlagsString(f) + "]");
		EXPECT_TRUE(Dropped(Frame(Seg().flags(f).seq(P(0)).data("x")),
				    RxSeg({ { "tcp_listen_no_syn", 1 } })));
	}
	EXPECT_EQ(CountAll(), 1u);
}

// Data on a SYN is not taken: the SYN-ACK acknowledges the SYN alone, so
// the peer sends the data again once the connection is established.
TEST_F(TcpHandshake, Listen_SynWithData_DataNotAcknowledged)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg syn = PeerSyn();
	syn.data("early data");
	TcpSeg sa = SynIn(syn);
	EXPECT_EQ(sa.ack, P(1));
	AckIn();
	EXPECT_TRUE(ReceivedBytes().empty());
	DataInAcked("early data", conn_);
}

// FIN on the SYN: not taken either (its ACK would say so); ESTABLISHED, not CLOSE-WAIT.
TEST_F(TcpHandshake, Listen_SynWithFin_FinNotAcknowledged)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg syn = PeerSyn();
	syn.fin();
	TcpSeg sa = SynIn(syn);
	EXPECT_EQ(sa.ack, P(1));
	AckIn();
	ExpectState(DTCP_TCP_ESTABLISHED);
	ExpectNoEvents();
}

// ECN setup SYNs (RFC 3168 §6.1.1) and reserved bits get an ordinary SYN-ACK.
TEST_F(TcpHandshake, Listen_SynWithEceCwrOrReservedBits_PlainSynAck)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg ecn = SynFrom(40001);
	ecn.ece().cwr();
	TcpSeg sa = SynIn(ecn);
	EXPECT_EQ(FlagsString(sa.flags), "SA");
	Seg rsv = SynFrom(40002);
	rsv.reserved(0xf);
	SynIn(rsv);
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 2u);
}

// ==== §3.10.7.3 SYN-SENT ====================================================================

TEST_P(TcpOpening, SynSent_AckAtOrBelowIss_RstSeqSegAck)
{
	Start();
	SynOut();
	for (uint32_t a : { O(0), O(-1), O(-100000) }) {
		for (bool syn : { false, true }) {
			SCOPED_TRACE("ack " + std::to_string((int32_t)(a - O(0))) + (syn ? " SYN-ACK" : " ACK"));
			Seg s = syn ? PeerSynAck(P(0), a) : Seg().ack().seq(P(0)).ack_(a);
			Mark();
			Inject(s);
			ExpectRst(ExpectOneTx(), a);
			EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_synsent_bad_ack", 1 },
									      { "tcp_tx_rst", 1 } }))));
			ExpectState(DTCP_TCP_SYN_SENT);
		}
	}
	ExpectNoEvents();
	Inject(PeerSynAck(P(0), O(1)));
	ExpectHandshakeAck(ExpectOneTx());
	ExpectEvent(DTCP_EV_CONNECTED);
}

TEST_P(TcpOpening, SynSent_AckAboveSndNxt_RstSeqSegAck)
{
	Start();
	SynOut();
	for (uint32_t a : { O(2), O(1000), O(0x40000000) }) {
		for (bool syn : { false, true }) {
			SCOPED_TRACE("ack " + std::to_string((int32_t)(a - O(0))) + (syn ? " SYN-ACK" : " ACK"));
			Seg s = syn ? PeerSynAck(P(0), a) : Seg().ack().seq(P(0)).ack_(a);
			Mark();
			Inject(s);
			ExpectRst(ExpectOneTx(), a);
			EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_synsent_bad_ack", 1 },
									      { "tcp_tx_rst", 1 } }))));
			ExpectState(DTCP_TCP_SYN_SENT);
		}
	}
	ExpectNoEvents();
}

TEST_P(TcpOpening, SynSent_RstWithBadAck_Ignored)
{
	Start();
	SynOut();
	for (uint32_t a : { O(0), O(2), O(-7) }) {
		SCOPED_TRACE("ack " + std::to_string((int32_t)(a - O(0))));
		EXPECT_TRUE(Dropped(Frame(Seg().rst().ack().seq(0).ack_(a)),
				    RxSeg({ { "tcp_synsent_bad_rst", 1 } })));
		ExpectState(DTCP_TCP_SYN_SENT);
	}
	ExpectNoEvents();
	Inject(PeerSynAck(P(0), O(1)));
	ExpectHandshakeAck(ExpectOneTx());
	ExpectEvent(DTCP_EV_CONNECTED);
}

TEST_P(TcpOpening, SynSent_RstWithoutAck_Ignored)
{
	Start();
	SynOut();
	for (uint32_t s : { 0u, P(0), P(1), O(1) }) {
		EXPECT_TRUE(Dropped(Frame(Seg().rst().seq(s).ack_(O(1))),
				    RxSeg({ { "tcp_synsent_bad_rst", 1 } })));
		ExpectState(DTCP_TCP_SYN_SENT);
	}
	ExpectNoEvents();
	Inject(PeerSynAck(P(0), O(1)));
	ExpectHandshakeAck(ExpectOneTx());
	ExpectEvent(DTCP_EV_CONNECTED);
}

TEST_P(TcpOpening, SynSent_NeitherSynNorRst_Dropped)
{
	Start();
	SynOut();
	Seg ack = Seg().ack().seq(P(1)).ack_(O(1));
	Seg fin = Seg().fin().ack().seq(P(1)).ack_(O(1));
	Seg data = Seg().psh().ack().seq(P(1)).ack_(O(1)).data("data");
	Seg bare = Seg().seq(P(1)).data("data");
	Seg finonly = Seg().fin().seq(P(1));
	for (const Seg *s : { &ack, &fin, &data, &bare, &finonly }) {
		SCOPED_TRACE(ToString(ParseTcp(Frame(*s))));
		EXPECT_TRUE(Dropped(Frame(*s), RxSeg({ { "tcp_synsent_no_syn", 1 } })));
		ExpectState(DTCP_TCP_SYN_SENT);
	}
	ExpectNoEvents();
	EXPECT_EQ(Info().irs, 0u);
	Inject(PeerSynAck(P(0), O(1)));
	ExpectHandshakeAck(ExpectOneTx());
	ExpectEvent(DTCP_EV_CONNECTED);
	ExpectOpened(PeerWnd(false), conn_);
}

// §3.10.7.3: "If there are other controls or text in the segment, then
// continue processing at the sixth step": data on the SYN-ACK is delivered
// and acknowledged with the handshake's ACK.
TEST_P(TcpOpening, SynSent_SynAckWithData_DeliveredAndAcked)
{
	Start();
	SynOut();
	Seg sa = PeerSynAck(P(0), O(1));
	sa.psh().data("hello");
	Mark();
	Inject(sa);
	TcpSeg a = ExpectSeg(ExpectOneTx(), "A", O(1), P(6), WinField(cfg_.tcp_rcvbuf));
	if (ts_ok_) {
		EXPECT_EQ(a.tsecr, peer_ts_);
	}
	ExpectEvents({ DTCP_EV_CONNECTED, DTCP_EV_DATA });
	EXPECT_EQ(std::string(ReceivedBytes().begin(), ReceivedBytes().end()), "hello");
	EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_established", 1 },
							      { "tcp_data_rx", 1 },
							      { "tcp_events", 2 },
							      { "tcp_tx_ack_only", 1 } }))));
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.irs, P(0));
	EXPECT_EQ(i.rcv_nxt, P(6));
	ExpectState(DTCP_TCP_ESTABLISHED);
}

// Every flag combination, ACK field acceptable (O(1)) or not (O(0), O(2)),
// with and without data, each on a connection of its own.
TEST_F(TcpHandshake, SynSent_EveryFlagCombination_Rules)
{
	cfg_.tcp_timestamps = 0;
	cfg_.tcp_window_scale = 0;
	Start();
	uint16_t lport = 1000;

	for (int with_data = 0; with_data <= 1; with_data++) {
		for (int ak = 0; ak < 3; ak++) {
			for (unsigned f = 0; f < 64; f++) {
				uint32_t ackv = ak == 0 ? O(1) : ak == 1 ? O(0) : O(2);
				SCOPED_TRACE("flags [" + FlagsString((uint8_t)f) + "] ack O(" +
					     std::to_string((int32_t)(ackv - O(0))) + ")" +
					     (with_data ? " with 5 bytes" : ""));
				SynOut(kPeerPort, lport++);
				struct dtcp_conn *c = conn_;
				ASSERT_NE(c, nullptr);
				Seg s = Seg().sport(rport_).dport(lport_).flags((uint8_t)f);
				s.seq(P(0)).ack_(ackv).win(kPeerWin);
				if (with_data)
					s.data("12345");
				bool ack = f & kAck, rst = f & kRst, syn = f & kSyn, fin = f & kFin;
				Mark();
				Inject(s);
				std::vector<Bytes> tx = TakeTx();
				Deltas d = Moved();
				if (ack && ackv != O(1)) {
					if (rst) {
						EXPECT_EQ(tx.size(), 0u);
						EXPECT_EQ(At(d, "tcp_synsent_bad_rst"), 1u);
					} else {
						EXPECT_EQ(tx.size(), 1u);
						if (tx.size() == 1)
							ExpectRst(tx[0], ackv);
						EXPECT_EQ(At(d, "tcp_synsent_bad_ack"), 1u);
					}
					ExpectState(DTCP_TCP_SYN_SENT, c);
					ExpectNoEvents();
				} else if (rst) {
					EXPECT_EQ(tx.size(), 0u);
					if (ack) {
						EXPECT_EQ(At(d, "tcp_rst_accepted"), 1u);
						Event e = ExpectEvent(DTCP_EV_CLOSED);
						EXPECT_EQ(e.error, -ECONNREFUSED);
						EXPECT_EQ(conn_, nullptr);
						continue;
					}
					EXPECT_EQ(At(d, "tcp_synsent_bad_rst"), 1u);
					ExpectState(DTCP_TCP_SYN_SENT, c);
					ExpectNoEvents();
				} else if (!syn) {
					EXPECT_EQ(tx.size(), 0u);
					EXPECT_EQ(At(d, "tcp_synsent_no_syn"), 1u);
					ExpectState(DTCP_TCP_SYN_SENT, c);
					ExpectNoEvents();
				} else if (ack) {
					uint32_t len = (with_data ? 5 : 0) + (fin ? 1 : 0);
					EXPECT_EQ(tx.size(), 1u);
					if (tx.size() == 1)
						ExpectSeg(tx[0], "A", O(1), P(1 + len), WinField(cfg_.tcp_rcvbuf));
					std::vector<enum dtcp_event_type> want = { DTCP_EV_CONNECTED };
					if (with_data)
						want.push_back(DTCP_EV_DATA);
					if (fin)
						want.push_back(DTCP_EV_PEER_CLOSED);
					ExpectEvents(want);
					ExpectState(fin ? DTCP_TCP_CLOSE_WAIT : DTCP_TCP_ESTABLISHED, c);
					EXPECT_EQ(At(d, with_data ? "tcp_data_rx" : fin ? "tcp_fin_rx" : "tcp_ack_rx"), 1u);
				} else {
					// Simultaneous open: data and FIN wait for their retransmission.
					EXPECT_EQ(tx.size(), 1u);
					if (tx.size() == 1)
						ExpectSeg(tx[0], "SA", O(0), P(1), SynWin());
					EXPECT_EQ(At(d, "tcp_simultaneous_open"), 1u);
					ExpectState(DTCP_TCP_SYN_RECEIVED, c);
					ExpectNoEvents();
				}
			}
		}
	}
}

// ==== Options on the SYN ====================================================================

// Our SYN and SYN-ACK with everything on: MSS = MTU - 40; SACK-permitted
// folded into the timestamp's padding; NOP WS last. 20 bytes exactly.
TEST_F(TcpHandshake, Options_AllOn_SynAndSynAckLayout)
{
	cfg_.tcp_sack = 1;
	Start();
	TcpSeg syn = SynOut();
	Bytes want = { kOptMss, 4, 0x05, 0xb4, kOptSackOk, 2, kOptTs, 10 };
	for (int i = 3; i >= 0; i--)
		want.push_back((uint8_t)(syn.tsval >> (8 * i)));
	want.insert(want.end(), { 0, 0, 0, 0, kOptNop, kOptWs, 3, 3 });
	EXPECT_EQ(syn.opts, want);
	EXPECT_EQ(syn.doff, 10);

	ASSERT_NO_FATAL_FAILURE(Listen(8));
	Seg s = PeerSyn();
	s.dport(8);
	TcpSeg sa = SynIn(s);
	want = { kOptMss, 4, 0x05, 0xb4, kOptSackOk, 2, kOptTs, 10 };
	for (int i = 3; i >= 0; i--)
		want.push_back((uint8_t)(sa.tsval >> (8 * i)));
	for (int i = 3; i >= 0; i--)
		want.push_back((uint8_t)(kPeerTsval >> (8 * i)));
	want.insert(want.end(), { kOptNop, kOptWs, 3, 3 });
	EXPECT_EQ(sa.opts, want);
	EXPECT_EQ(sa.win, 65535) << "a SYN-ACK's window is not scaled";
}

TEST_F(TcpHandshake, Options_AllOff_MssOnly)
{
	cfg_.tcp_timestamps = 0;
	cfg_.tcp_window_scale = 0;
	cfg_.tcp_sack = 0;
	Start();
	TcpSeg syn = SynOut();
	EXPECT_EQ(syn.opts, Bytes({ kOptMss, 4, 0x05, 0xb4 }));
	ASSERT_NO_FATAL_FAILURE(Listen(8));
	Seg s = Seg().syn().dport(8).seq(P(0)).mss(1460).sack_ok().ts(1, 0).nop().ws(7);
	TcpSeg sa = SynIn(s);
	EXPECT_EQ(sa.opts, Bytes({ kOptMss, 4, 0x05, 0xb4 })) << "nothing the configuration turns off";
}

TEST_F(TcpHandshake, Options_ConfiguredMssAndMtu_Announced)
{
	cfg_.tcp_mss = 1000;
	Start();
	EXPECT_EQ(SynOut().mss, 1000);
}

TEST_F(TcpHandshake, Options_SmallerMtu_MssIsMtuMinus40)
{
	cfg_.mtu = 1400;
	Start();
	EXPECT_EQ(SynOut().mss, 1360);
}

// RFC 9293 §3.7.1: no MSS option means 536. The segments we send keep to it.
TEST_F(TcpHandshake, Options_NoPeerMss_Sends536ByteSegments)
{
	cfg_.tcp_timestamps = 0;
	cfg_.tcp_window_scale = 0;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive(Seg().syn().seq(P(0)).win(kPeerWin)));
	EXPECT_EQ(Info().snd_mss, 536);
	Bytes data = Pattern(2000);
	Mark();
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), (uint32_t)data.size()), 2000);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 4u);
	size_t off = 0;
	for (size_t i = 0; i < tx.size(); i++) {
		size_t n = i < 3 ? 536 : 2000 - 3 * 536;
		TcpSeg s = ExpectSeg(tx[i], i < 3 ? "A" : "PA", O(1 + off), P(1),
				     WinField(cfg_.tcp_rcvbuf));
		EXPECT_EQ(s.payload, Bytes(data.begin() + off, data.begin() + off + n)) << "segment " << i;
		off += n;
	}
	EXPECT_EQ(At(Moved(), "tcp_tx_data"), 4u);
	EXPECT_EQ(At(Moved(), "tcp_tx_data_bytes"), 2000u);
}

// The same for a SYN-ACK without MSS.
TEST_F(TcpHandshake, Options_NoMssOnSynAck_Sends536ByteSegments)
{
	cfg_.tcp_timestamps = 0;
	cfg_.tcp_window_scale = 0;
	Start();
	SynOut();
	Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin));
	ExpectHandshakeAck(ExpectOneTx());
	ExpectEvent(DTCP_EV_CONNECTED);
	EXPECT_EQ(Info().snd_mss, 536);
	Bytes data = Pattern(600);
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), (uint32_t)data.size()), 600);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 2u);
	EXPECT_EQ(ExpectSeg(tx[0], "A", O(1), P(1)).payload.size(), 536u);
	EXPECT_EQ(ExpectSeg(tx[1], "PA", O(537), P(1)).payload.size(), 64u);
}

// RFC 6691: the MSS counts no options; with 12 bytes of timestamps on every
// segment, the data is 12 bytes shorter so that the whole fits 536.
TEST_F(TcpHandshake, Options_NoPeerMssWithTimestamps_DataAndOptionsFit536)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive(Seg().syn().seq(P(0)).win(kPeerWin).ts(kPeerTsval, 0)));
	EXPECT_EQ(Info().snd_mss, 524);
	Bytes data = Pattern(1000);
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), (uint32_t)data.size()), 1000);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 2u);
	TcpSeg a = ExpectSeg(tx[0], "A", O(1), P(1));
	TcpSeg b = ExpectSeg(tx[1], "PA", O(525), P(1));
	EXPECT_EQ(a.payload.size(), 524u);
	EXPECT_EQ(a.payload.size() + a.opts.size(), 536u);
	EXPECT_EQ(b.payload.size(), 476u);
}

TEST_F(TcpHandshake, Options_TinyMss_RaisedToMssMin)
{
	cfg_.tcp_timestamps = 0;
	cfg_.tcp_window_scale = 0;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive(Seg().syn().seq(P(0)).win(kPeerWin).mss(10)));
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_mss_clamped), 1u);
	EXPECT_EQ(Info().snd_mss, cfg_.tcp_mss_min);
	EXPECT_EQ(Info().snd_mss, 88);
	Bytes data = Pattern(200);
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), (uint32_t)data.size()), 200);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 3u);
	EXPECT_EQ(ExpectSeg(tx[0], "A", O(1), P(1)).payload.size(), 88u);
	EXPECT_EQ(ExpectSeg(tx[1], "A", O(89), P(1)).payload.size(), 88u);
	EXPECT_EQ(ExpectSeg(tx[2], "PA", O(177), P(1)).payload.size(), 24u);
}

TEST_F(TcpHandshake, Options_MssAboveMinimum_NotClamped)
{
	cfg_.tcp_timestamps = 0;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive(Seg().syn().seq(P(0)).win(kPeerWin).mss(88)));
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_mss_clamped), 0u);
	EXPECT_EQ(Info().snd_mss, 88);
}

// RFC 7323 §2.3: a shift above 14 is used as 14.
TEST_F(TcpHandshake, Options_WindowScale15_UsedAs14)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg syn = Seg().syn().seq(P(0)).win(kPeerWin).mss(kPeerMss).ts(kPeerTsval, 0).nop().ws(15);
	TcpSeg sa = SynIn(syn);
	EXPECT_TRUE(sa.has_ws);
	EXPECT_EQ(sa.ws, 3) << "our own shift for a 256 KiB buffer";
	Seg a = PeerAck();
	a.win(3);
	Inject(a);
	ExpectNoTx();
	ExpectEvent(DTCP_EV_ACCEPTABLE);
	ASSERT_EQ(accepted_.size(), 1u);
	struct dtcp_conn_info i = Info(accepted_.back());
	EXPECT_EQ(i.snd_wscale, 14);
	EXPECT_EQ(i.rcv_wscale, 3);
	EXPECT_EQ(i.snd_wnd, 3u << 14);
}

// RFC 7323 §2.2: scaling only when both sides send WS. The peer sends none.
TEST_F(TcpHandshake, Options_PeerOffersNoWindowScale_NeitherScales)
{
	Start();
	Seg syn = Seg().syn().seq(P(0)).win(kPeerWin).mss(kPeerMss).ts(kPeerTsval, 0);
	ASSERT_NO_FATAL_FAILURE(OpenPassive(syn));
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.snd_wscale, 0);
	EXPECT_EQ(i.rcv_wscale, 0);
	EXPECT_EQ(i.snd_wnd, kPeerWin);
	// Our window field is unscaled: as much of 256 KiB as 16 bits say.
	Seg d = PeerAck();
	d.data("x");
	Inject(d);
	EXPECT_EQ(ExpectSeg(ExpectOneTx(), "A", O(1), P(2)).win, 65535);
	// And the peer's is taken as it is.
	Seg w = PeerAck();
	w.seq(P(2)).win(1000);
	Inject(w);
	EXPECT_EQ(Info().snd_wnd, 1000u);
}

// We do not scale: the peer's WS is not answered and its windows are unscaled.
TEST_F(TcpHandshake, Options_WindowScaleOff_PeerShiftIgnored)
{
	cfg_.tcp_window_scale = 0;
	Start();
	Seg syn = Seg().syn().seq(P(0)).win(kPeerWin).mss(kPeerMss).ts(kPeerTsval, 0).nop().ws(7);
	ASSERT_NO_FATAL_FAILURE(Listen());
	TcpSeg sa = SynIn(syn);
	EXPECT_FALSE(sa.has_ws);
	Seg a = PeerAck();
	a.win(1000);
	Inject(a);
	ExpectNoTx();
	ExpectEvent(DTCP_EV_ACCEPTABLE);
	ASSERT_EQ(accepted_.size(), 1u);
	struct dtcp_conn_info i = Info(accepted_.back());
	EXPECT_EQ(i.snd_wscale, 0);
	EXPECT_EQ(i.rcv_wscale, 0);
	EXPECT_EQ(i.snd_wnd, 1000u);
}

// Active side: we offer WS, the SYN-ACK has none; our ACK's window is unscaled.
TEST_F(TcpHandshake, Options_SynAckWithoutWindowScale_NeitherScales)
{
	Start();
	TcpSeg syn = SynOut();
	EXPECT_TRUE(syn.has_ws);
	Seg sa = Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss);
	sa.ts(kPeerTsval, our_ts_);
	ws_ok_ = false;
	Inject(sa);
	EXPECT_EQ(ExpectSeg(ExpectOneTx(), "A", O(1), P(1)).win, 65535);
	ExpectEvent(DTCP_EV_CONNECTED);
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.snd_wscale, 0);
	EXPECT_EQ(i.rcv_wscale, 0);
	Seg w = Seg().ack().seq(P(1)).ack_(O(1)).win(1000).ts(kPeerTsval + 1, our_ts_);
	Inject(w);
	EXPECT_EQ(Info().snd_wnd, 1000u);
}

// RFC 7323 §2.2, §3.2: options we did not offer in our SYN count for
// nothing on the SYN-ACK.
TEST_F(TcpHandshake, Options_SynAckWithOptionsWeDidNotOffer_Ignored)
{
	cfg_.tcp_timestamps = 0;
	cfg_.tcp_window_scale = 0;
	cfg_.tcp_sack = 0;
	Start();
	TcpSeg syn = SynOut();
	EXPECT_FALSE(syn.has_ts || syn.has_ws || syn.sack_ok);
	Seg sa = Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss);
	sa.sack_ok().ts(kPeerTsval, 12345).nop().ws(7);
	Inject(sa);
	ExpectHandshakeAck(ExpectOneTx());   // ExpectSeg: no TS on it
	ExpectEvent(DTCP_EV_CONNECTED);
	struct dtcp_conn_info i = Info();
	EXPECT_FALSE(i.ts_ok);
	EXPECT_FALSE(i.sack_ok);
	EXPECT_EQ(i.snd_wscale, 0);
	EXPECT_EQ(i.rcv_wscale, 0);
	EXPECT_EQ(i.snd_wnd, kPeerWin);
	EXPECT_EQ(i.snd_mss, 1460) << "no 12 bytes kept for timestamps";
}

// RFC 7323 §3: TSecr echoes the peer's TSval, from the SYN-ACK on.
TEST_F(TcpHandshake, Options_Timestamps_EchoedBothWays)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen(8));
	peer_ts_ = 1000;
	Seg syn = PeerSyn();
	syn.dport(8);
	TcpSeg sa = SynIn(syn);
	EXPECT_EQ(sa.tsecr, 1000u);
	peer_ts_ = 1001;
	AckIn();
	DataInAcked("ts", conn_);

	// Active: our SYN's TSecr is 0, our ACK echoes the SYN-ACK's TSval.
	TcpSeg s = SynOut(kPeerPort, 9);
	EXPECT_TRUE(s.has_ts);
	EXPECT_EQ(s.tsecr, 0u);
	peer_ts_ = 5000;
	Inject(PeerSynAck(P(0), O(1)));
	TcpSeg a = ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
	EXPECT_EQ(a.tsecr, 5000u);
	ExpectEvent(DTCP_EV_CONNECTED);
}

// The SYN's options are read wherever they sit: the usual 20-byte layout
// (MSS, SACK-permitted, TS, NOP, WS) has a short path, so the same options
// in another order must give the same SYN-ACK, and the usual layout with a
// wrong WS length must be refused as malformed.
TEST_F(TcpHandshake, Options_SynOptionsInAnotherOrder_SameSynAck)
{
	cfg_.tcp_sack = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen(8));
	Seg usual = PeerSyn();
	usual.dport(8);
	ASSERT_EQ(ParseTcp(Frame(usual)).opts.size(), 20u);
	TcpSeg a = SynIn(usual);

	Seg other = Seg().syn().sport(kPeerPort + 1).dport(8).seq(P(0)).win(kPeerWin);
	other.nop().ws(peer_ws_).sack_ok().ts(peer_ts_, 0).mss(kPeerMss);
	ASSERT_EQ(ParseTcp(Frame(other)).opts.size(), 20u);
	TcpSeg b = SynIn(other);
	EXPECT_EQ(b.flags, a.flags);
	EXPECT_EQ(b.win, a.win);
	EXPECT_EQ(b.mss, a.mss);
	EXPECT_EQ(b.sack_ok, a.sack_ok);
	EXPECT_EQ(b.has_ws, a.has_ws);
	EXPECT_EQ(b.ws, a.ws);
	EXPECT_EQ(b.has_ts, a.has_ts);
	EXPECT_EQ(b.tsecr, a.tsecr);
	EXPECT_EQ(b.opts.size(), a.opts.size());

	Bytes bad = ParseTcp(Frame(usual)).opts;
	bad[18] = 4;                  // WS with length 4
	Seg malformed = Seg().syn().sport(kPeerPort + 2).dport(8).seq(P(0)).opt(bad);
	EXPECT_TRUE(Dropped(Frame(malformed), RxSeg({ { "tcp_opt_malformed", 1 } })));
}

TEST_F(TcpHandshake, Options_PeerWithoutTimestamps_NoneSent)
{
	Start();
	Seg syn = Seg().syn().seq(P(0)).win(kPeerWin).mss(kPeerMss).nop().ws(2);
	ASSERT_NO_FATAL_FAILURE(Listen());
	TcpSeg sa = SynIn(syn);
	EXPECT_FALSE(sa.has_ts);
	AckIn();
	EXPECT_FALSE(Info().ts_ok);
	DataInAcked("no ts", conn_);   // ExpectSeg: no TS on it
}

// RFC 2018 §2: SACK-permitted only when configured and offered.
TEST_F(TcpHandshake, Options_SackOff_NotAnsweredWhenOffered)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg syn = PeerSyn();
	syn.sack_ok();
	TcpSeg sa = SynIn(syn);
	EXPECT_FALSE(sa.sack_ok);
	AckIn();
	EXPECT_FALSE(Info().sack_ok);
}

TEST_F(TcpHandshake, Options_SackOn_OnlyWhenOffered)
{
	cfg_.tcp_sack = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	TcpSeg sa = SynIn(SynFrom(40001));   // PeerSyn offers it when configured
	EXPECT_TRUE(sa.sack_ok);
	AckIn();
	EXPECT_TRUE(Info().sack_ok);

	Seg syn = Seg().syn().sport(40002).seq(P(0)).win(kPeerWin).mss(kPeerMss).ts(kPeerTsval, 0);
	sa = SynIn(syn);
	EXPECT_FALSE(sa.sack_ok);
	AckIn();
	EXPECT_FALSE(Info().sack_ok);

	// Active: offered in our SYN; a SYN-ACK without it leaves SACK off.
	TcpSeg s = SynOut(kPeerPort, 9);
	EXPECT_TRUE(s.sack_ok);
	Seg psa = Seg().syn().ack().sport(kPeerPort).dport(9).seq(P(0)).ack_(O(1)).win(kPeerWin);
	psa.mss(kPeerMss).ts(kPeerTsval, our_ts_).nop().ws(0);
	Inject(psa);
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
	ExpectEvent(DTCP_EV_CONNECTED);
	EXPECT_FALSE(Info().sack_ok);
}

// RFC 9293 §3.1 (MUST-7 and the note after it): malformed option lengths
// make the segment be dropped, counted, unanswered.
TEST_F(TcpHandshake, Options_Malformed_SegmentDropped)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	const std::vector<std::pair<const char *, Bytes>> cases = {
		{ "unknown kind, length 0", { 0x1e, 0 } },
		{ "unknown kind, length 1", { 0x1e, 1 } },
		{ "MSS, length 0", { kOptMss, 0, 0, 0 } },
		{ "length past the header", { kOptNop, kOptNop, 0x1e, 9 } },
		{ "MSS past the header", { kOptNop, kOptNop, kOptMss, 4 } },
		{ "kind without a length byte", { kOptNop, kOptNop, kOptNop, 0x1e } },
		{ "MSS, length 3", { kOptMss, 3, 5 } },
		{ "WS, length 2", { kOptWs, 2 } },
		{ "SACK-permitted, length 3", { kOptSackOk, 3, 0 } },
		{ "TS, length 9", { kOptTs, 9, 1, 2, 3, 4, 5, 6, 7 } },
		{ "SACK, length 11", { kOptSack, 11, 0, 0, 0, 1, 0, 0, 0, 2, 9 } },
		{ "SACK, length 2", { kOptSack, 2 } },
	};
	for (const auto &c : cases) {
		SCOPED_TRACE(c.first);
		Seg syn = Seg().syn().seq(P(0)).win(kPeerWin).opt(c.second);
		ASSERT_EQ(ParseTcp(Frame(syn)).opts_ok, false) << "the case is malformed";
		EXPECT_TRUE(Dropped(Frame(syn), RxSeg({ { "tcp_opt_malformed", 1 } })));
		// To a closed port: not answered either.
		Seg closed = syn;
		closed.dport(9);
		EXPECT_TRUE(Dropped(Frame(closed), RxSeg({ { "tcp_opt_malformed", 1 } })));
	}
	EXPECT_EQ(CountAll(), 1u);
	ExpectNoEvents();

	// On an established connection: the data is not taken, nothing is sent.
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	Seg d = PeerAck();
	d.opt({ kOptMss, 3, 5 }).data("lost");
	EXPECT_TRUE(Dropped(Frame(d), RxSeg({ { "tcp_opt_malformed", 1 } })));
	EXPECT_EQ(Info().rcv_nxt, P(1));
	ExpectNoEvents();
}

// MUST-7: an unknown kind with a length is skipped; what follows is read.
TEST_F(TcpHandshake, Options_UnknownKinds_Skipped)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg syn = Seg().syn().seq(P(0)).win(kPeerWin).opt({ 0x1e, 4, 0xaa, 0xbb }).mss(1000);
	syn.opt({ 0xfd, 2 }).ts(kPeerTsval, 0).opt({ 0x22, 3, 0 }).nop().ws(5);
	TcpSeg sa = SynIn(syn);
	EXPECT_TRUE(sa.has_ts);
	EXPECT_TRUE(sa.has_ws);
	AckIn();
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.snd_mss, 1000 - 12);
	EXPECT_EQ(i.snd_wscale, 5);
	EXPECT_TRUE(i.ts_ok);
}

// EOL ends the list: whatever follows it is padding, even bytes that would
// be malformed as options.
TEST_F(TcpHandshake, Options_EolEarly_RestIgnored)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg syn = Seg().syn().sport(40001).seq(P(0)).win(kPeerWin).mss(1000).eol();
	syn.opt({ kOptWs, 3, 7, 0x1e, 0, kOptTs, 9 });
	TcpSeg sa = SynIn(syn);
	EXPECT_FALSE(sa.has_ws);
	EXPECT_FALSE(sa.has_ts);
	AckIn();
	struct dtcp_conn_info i = Info();
	EXPECT_EQ(i.snd_mss, 1000);
	EXPECT_EQ(i.snd_wscale, 0);
	EXPECT_FALSE(i.ts_ok);

	// EOL first: no MSS seen, so 536.
	Seg syn2 = Seg().syn().sport(40002).seq(P(0)).win(kPeerWin).eol().mss(1000);
	SynIn(syn2);
	AckIn();
	EXPECT_EQ(Info().snd_mss, 536);
}

// ==== Bounds ================================================================================

TEST_F(TcpHandshake, Listen_SynBacklogFull_SynDropped)
{
	cfg_.tcp_syncookies = 0;
	Start();
	ASSERT_NO_FATAL_FAILURE(ListenWith(2, 0));
	SynIn(SynFrom(40001));
	SynIn(SynFrom(40002));
	EXPECT_TRUE(Dropped(Frame(SynFrom(40003)), RxSeg({ { "tcp_syn_backlog_full", 1 } })));
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 2u);
	// One completes: its half-open slot is free again.
	rport_ = 40001;
	AckIn();
	SynIn(SynFrom(40003));
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 2u);
	EXPECT_TRUE(Dropped(Frame(SynFrom(40004)), RxSeg({ { "tcp_syn_backlog_full", 1 } })));
}

// The handshake's ACK finds the accept queue full: dropped (no RST), the
// connection stays SYN-RECEIVED, its SYN-ACK goes again at the RTO and the
// peer's new ACK completes it once dtcp_tcp_accept() has made room.
TEST_F(TcpHandshake, SynReceived_AcceptQueueFull_AckDroppedSynAckRetried)
{
	auto_accept_ = false;
	Start();
	ASSERT_NO_FATAL_FAILURE(ListenWith(0, 1));
	SynIn(SynFrom(40001));
	AckIn();
	TcpSeg offered = ParseTcp(Frame(SynFrom(40002)));
	SynIn(SynFrom(40002));
	EXPECT_TRUE(Dropped(Frame(PeerAck()), RxSeg({ { "tcp_accept_full", 1 } })));
	ExpectNoEvents();
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 1u);
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 1u);

	Advance(cfg_.tcp_rto_init_ms - 1);
	ExpectNoTx();
	Mark();
	Advance(1);
	ExpectSynAck(ExpectOneTx(), offered);
	EXPECT_EQ(ToString(Moved()), ToString(TxSeg({ { "tcp_rto", 1 },
						      { "tcp_rexmit", 1 },
						      { "tcp_tx_syn", 1 } })));
	struct dtcp_conn *first = AcceptOne();
	ASSERT_NE(first, nullptr);
	EXPECT_EQ(Info(first).rport, 40001);

	AckIn();
	struct dtcp_conn *second = AcceptOne();
	ASSERT_NE(second, nullptr);
	EXPECT_EQ(Info(second).rport, 40002);
	ExpectState(DTCP_TCP_ESTABLISHED, second);
}

TEST_F(TcpHandshake, Listen_ConnectionTableFull_SynDroppedConnectRefused)
{
	cfg_.tcp_max_conns = 4;
	cfg_.tcp_listeners_max = 1;
	cfg_.tcp_syncookies = 0;
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());   // the listener takes one
	for (uint16_t p = 40001; p <= 40003; p++)
		SynIn(SynFrom(p));
	EXPECT_EQ(CountAll(), 4u);
	EXPECT_TRUE(Dropped(Frame(SynFrom(40004)), RxSeg({ { "tcp_syn_no_tcb", 1 },
							   { "tcp_conn_table_full", 1 } })));
	struct dtcp_conn *c = nullptr;
	Mark();
	EXPECT_EQ(dtcp_tcp_connect(w_, kPeerIp, kPeerPort, 0, 9, OnEvent, this, &c), -ENOBUFS);
	Poll();
	ExpectNoTx();
	EXPECT_EQ(ToString(Moved()), ToString(Deltas{ { "tcp_conn_table_full", 1 } }));
	EXPECT_EQ(CountAll(), 4u);
}

// ==== SYN cookies ===========================================================================

class TcpCookies : public TcpHandshake {
protected:
	void SetUp() override
	{
		TcpHandshake::SetUp();
		cfg_.tcp_syncookies = 2;
		peer_ws_ = 4;
	}

	// A SYN in, a cookie SYN-ACK out, checked as any SYN-ACK of ours but for
	// its ISS, which becomes iss_. No connection is made.
	TcpSeg CookieSynIn(const Seg &syn)
	{
		uint64_t before = CountAll(), half_open = Count(DTCP_TCP_SYN_RECEIVED);

		Mark();
		Inject(syn);
		Bytes f = ExpectOneTx();
		TcpSeg sa = ParseTcp(f);
		iss_ = sa.seq;
		TcpSeg offered = ParseTcp(Frame(syn));
		lport_ = syn.dst_port;
		rport_ = syn.src_port;
		ts_ok_ = cfg_.tcp_timestamps && offered.has_ts;
		sack_ok_ = ts_ok_ && cfg_.tcp_sack && offered.sack_ok;
		ws_ok_ = ts_ok_ && cfg_.tcp_window_scale && offered.has_ws;
		if (offered.has_ts)
			peer_ts_ = offered.tsval;
		if (offered.has_ws)
			peer_ws_ = offered.ws;
		if (ts_ok_)
			ExpectSynAck(f, offered);
		else
			ExpectSeg(f, "SA", O(0), offered.seq + 1, SynWin());
		EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_syncookie_tx", 1 },
								      { "tcp_tx_syn", 1 } }))));
		EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), half_open) << "a cookie keeps no state";
		EXPECT_EQ(CountAll(), before);
		snd_ = rcv_ = 1;
		return sa;
	}

	// A forged or stale cookie ACK: <SEQ=SEG.ACK><CTL=RST>, tcp_syncookie_bad, no connection.
	void ExpectCookieRefused(const Seg &ack)
	{
		uint64_t before = CountAll();
		uint16_t rport = rport_;

		rport_ = ack.src_port;
		Mark();
		Inject(ack);
		ExpectRst(ExpectOneTx(), ack.ack_no);
		EXPECT_EQ(ToString(Moved()), ToString(RxFrame(TxSeg({ { "tcp_syncookie_bad", 1 },
								      { "tcp_tx_rst", 1 } }))));
		EXPECT_EQ(CountAll(), before);
		ExpectNoEvents();
		rport_ = rport;
	}

	// The cookie ACK: an ESTABLISHED connection, accepted.
	void CookieAckIn()
	{
		Deltas want = RxFrame({ { "tcp_syncookie_ok", 1 },
					{ "tcp_passive_open", 1 },
					{ "tcp_established", 1 },
					{ "tcp_ack_rx", 1 },
					{ "tcp_events", 1 } });

		if (auto_accept_)
			want["tcp_accepted"] = 1;
		Mark();
		AckIn();
		EXPECT_EQ(ToString(Moved()), ToString(want));
	}
};

TEST_F(TcpCookies, Cookies_WithTimestamps_RoundTripKeepsWsAndSack)
{
	cfg_.tcp_sack = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	TcpSeg sa = CookieSynIn(PeerSyn());
	EXPECT_NE(sa.seq, kIss) << "not the ISN source's: a cookie";
	EXPECT_TRUE(sa.has_ws && sa.sack_ok && sa.has_ts);
	CookieAckIn();
	ExpectOpened((uint32_t)kPeerWin << 4, conn_);
	struct dtcp_conn_info i = Info();
	EXPECT_TRUE(i.ts_ok);
	EXPECT_TRUE(i.sack_ok);
	EXPECT_EQ(i.snd_wscale, 4);
	EXPECT_EQ(i.rcv_wscale, 3);
	EXPECT_EQ(i.snd_mss, 1460 - 12);
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 1u);
	DataInAcked("cookie", conn_);
	// And data our way.
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, "abc", 3), 3);
	Poll();
	EXPECT_EQ(ExpectSeg(ExpectOneTx(), "PA", O(1), P(rcv_)).payload, Bytes({ 'a', 'b', 'c' }));
}

// Without timestamps there is nowhere to carry WS and SACK back: the cookie
// SYN-ACK offers neither, and the connection uses neither.
TEST_F(TcpCookies, Cookies_WithoutTimestamps_RoundTripNoWsNoSack)
{
	cfg_.tcp_sack = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Seg syn = Seg().syn().seq(P(0)).win(kPeerWin).mss(1460).nop().ws(7).sack_ok();
	TcpSeg sa = CookieSynIn(syn);
	EXPECT_EQ(sa.opts, Bytes({ kOptMss, 4, 0x05, 0xb4 }));
	EXPECT_EQ(sa.win, 65535);
	CookieAckIn();
	ExpectOpened(kPeerWin, conn_);
	struct dtcp_conn_info i = Info();
	EXPECT_FALSE(i.ts_ok);
	EXPECT_FALSE(i.sack_ok);
	EXPECT_EQ(i.snd_wscale, 0);
	EXPECT_EQ(i.rcv_wscale, 0);
	EXPECT_EQ(i.snd_mss, 1460);
	DataInAcked("plain", conn_);
}

// The cookie carries the MSS as an index into a table: it rounds down.
TEST_F(TcpCookies, Cookies_MssBetweenTableEntries_RoundedDown)
{
	cfg_.tcp_timestamps = 0;
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	CookieSynIn(Seg().syn().seq(P(0)).win(kPeerWin).mss(1000));
	CookieAckIn();
	EXPECT_EQ(Info().snd_mss, 536);
}

TEST_F(TcpCookies, Cookies_AckWithData_Delivered)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	CookieSynIn(PeerSyn());
	Seg a = PeerAck();
	a.psh().data("with the ACK");
	Inject(a);
	ExpectSeg(ExpectOneTx(), "A", O(1), P(13), WinField(cfg_.tcp_rcvbuf));
	ExpectEvents({ DTCP_EV_ACCEPTABLE, DTCP_EV_DATA });
	EXPECT_EQ(std::string(ReceivedBytes().begin(), ReceivedBytes().end()), "with the ACK");
}

TEST_F(TcpCookies, Cookies_WrongAckNumber_Rst)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	CookieSynIn(PeerSyn());
	// Off by one either way; other MSS index bits; another period's bits.
	for (uint32_t ack : { O(0), O(2), (O(0) ^ (1u << 27)) + 1, (O(0) ^ (1u << 30)) + 1 }) {
		SCOPED_TRACE("ack " + std::to_string(ack));
		Seg a = PeerAck();
		a.ack_(ack);
		ExpectCookieRefused(a);
	}
	// The genuine one still works.
	CookieAckIn();
	ExpectOpened((uint32_t)kPeerWin << 4, conn_);
}

TEST_F(TcpCookies, Cookies_OtherFourTupleOrSeq_Rst)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	CookieSynIn(PeerSyn());
	Seg port = PeerAck();
	port.sport((uint16_t)(kPeerPort + 1));
	ExpectCookieRefused(port);
	Seg seq = PeerAck();
	seq.seq(P(2));
	ExpectCookieRefused(seq);
	CookieAckIn();
}

// The option bits ride in our TSval's low bits and come back in TSecr: the
// cookie covers them, so they cannot be changed, nor TS left out.
TEST_F(TcpCookies, Cookies_TsecrBitsChangedOrMissing_Rst)
{
	cfg_.tcp_sack = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	CookieSynIn(PeerSyn());
	for (uint32_t flip : { 1u, 0x10u, 0x20u }) {
		SCOPED_TRACE("TSecr ^ " + std::to_string(flip));
		Seg a = Seg().ack().seq(P(1)).ack_(O(1)).win(kPeerWin).ts(peer_ts_, our_ts_ ^ flip);
		ExpectCookieRefused(a);
	}
	ExpectCookieRefused(Seg().ack().seq(P(1)).ack_(O(1)).win(kPeerWin));
	CookieAckIn();
	EXPECT_TRUE(Info().sack_ok);
	EXPECT_EQ(Info().snd_wscale, 4);
}

// RFC 7323 §2.3 through a cookie: the shift it carries is at most 14.
TEST_F(TcpCookies, Cookies_WindowScale15_UsedAs14)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	peer_ws_ = 15;
	CookieSynIn(PeerSyn());
	Seg a = PeerAck();
	a.win(2);
	Mark();
	Inject(a);
	ExpectNoTx();
	ExpectEvent(DTCP_EV_ACCEPTABLE);
	ASSERT_EQ(accepted_.size(), 1u);
	struct dtcp_conn_info i = Info(accepted_.back());
	EXPECT_EQ(i.snd_wscale, 14);
	EXPECT_EQ(i.snd_wnd, 2u << 14);
}

// A cookie is good in the 64-second period it was made in and the next.
TEST_F(TcpCookies, Cookies_OneHundredSecondsOld_Accepted)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	CookieSynIn(PeerSyn());
	Advance(100 * 1000);
	ExpectNoTx();
	peer_ts_ += 100 * 1000;
	CookieAckIn();
	ExpectState(DTCP_TCP_ESTABLISHED);
}

TEST_F(TcpCookies, Cookies_TwoHundredSecondsOld_Rst)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	CookieSynIn(PeerSyn());
	Advance(200 * 1000);
	ExpectNoTx();
	peer_ts_ += 200 * 1000;
	ExpectCookieRefused(PeerAck());
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 0u);
}

// syncookies = 1: cookies only once the SYN backlog is full.
TEST_F(TcpCookies, Cookies_WhenBacklogFull_OnlyThen)
{
	cfg_.tcp_syncookies = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(ListenWith(2, 0));
	// No cookie sent yet: an unknown ACK is an ordinary error.
	rport_ = 40009;
	Mark();
	Inject(Seg().ack().sport(40009).seq(P(1)).ack_(O(5)));
	ExpectRst(ExpectOneTx(), O(5));
	EXPECT_EQ(At(Moved(), "tcp_listen_ack_rst"), 1u);

	TcpSeg a = SynIn(SynFrom(40001));
	TcpSeg b = SynIn(SynFrom(40002));
	EXPECT_EQ(a.seq, kIss);
	EXPECT_EQ(b.seq, kIss);
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 2u);
	TcpSeg c = CookieSynIn(SynFrom(40003));
	EXPECT_NE(c.seq, kIss);
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 2u);

	// Cookies are being sent: an unknown ACK is now a bad cookie.
	Mark();
	Inject(Seg().ack().sport(40009).seq(P(1)).ack_(O(5)));
	rport_ = 40009;
	ExpectRst(ExpectOneTx(), O(5));
	EXPECT_EQ(At(Moved(), "tcp_syncookie_bad"), 1u);

	rport_ = 40003;
	CookieAckIn();
	ExpectState(DTCP_TCP_ESTABLISHED);
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 2u);
}

// A valid cookie ACK while the accept queue is full: like any other
// handshake's ACK, dropped so that the peer's next segment can complete it;
// not a bad cookie, and not reset.
TEST_F(TcpCookies, Cookies_AcceptQueueFull_AckDroppedNotReset)
{
	auto_accept_ = false;
	Start();
	ASSERT_NO_FATAL_FAILURE(ListenWith(0, 1));
	CookieSynIn(SynFrom(40001));
	CookieAckIn();
	CookieSynIn(SynFrom(40002));
	EXPECT_TRUE(Dropped(Frame(PeerAck()), RxSeg({ { "tcp_syncookie_ok", 1 },
						      { "tcp_accept_full", 1 } })));
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 1u);
	ExpectNoEvents();
	ASSERT_NE(AcceptOne(), nullptr);
	// The peer's next segment (its ACK again) carries the same cookie.
	CookieAckIn();
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 2u);
}

// A valid cookie ACK when no connection can be made: nothing vouches that
// the cookie was bad, so no RST tells the peer so.
TEST_F(TcpCookies, Cookies_ConnectionTableFull_AckNotReset)
{
	cfg_.tcp_max_conns = 2;
	cfg_.tcp_listeners_max = 1;
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	CookieSynIn(SynFrom(40001));
	CookieAckIn();
	CookieSynIn(SynFrom(40002));
	Mark();
	Inject(PeerAck());
	ExpectNoTx();
	Deltas d = Moved();
	EXPECT_EQ(At(d, "tcp_conn_table_full"), 1u) << ToString(d);
	EXPECT_EQ(At(d, "tcp_syncookie_bad"), 0u) << ToString(d);
	EXPECT_EQ(Count(DTCP_TCP_ESTABLISHED), 1u);
}

// ==== RFC 6528 initial sequence numbers =====================================================

class TcpIsn : public TcpHandshake {
protected:
	void Start() override
	{
		TcpHandshake::Start();
		if (HasFatalFailure())
			return;
		dtcp_tcp_set_isn_source(w_, nullptr, nullptr);
	}

	// Connect from lport to rport; the ISS of our SYN (checked as a SYN).
	uint32_t ConnectIss(uint16_t rport, uint16_t lport)
	{
		if (Connect(rport, lport) == nullptr)
			return 0;
		Poll();
		Bytes f = ExpectOneTx();
		iss_ = ParseTcp(f).seq;
		ts_ok_ = cfg_.tcp_timestamps != 0;
		ExpectSyn(f);
		return iss_;
	}

	// Forget the SYN-SENT connection (CLOSE in SYN-SENT: nothing sent).
	void Forget()
	{
		dtcp_tcp_close(w_, conn_);
		conn_ = nullptr;
		Poll();
		ExpectNoTx();
	}
};

TEST_F(TcpIsn, Isn_DifferentFourTuples_Unrelated)
{
	Start();
	uint32_t a = ConnectIss(kPeerPort, kOurPort);
	uint32_t b = ConnectIss((uint16_t)(kPeerPort + 1), kOurPort);
	uint32_t c = ConnectIss(kPeerPort, (uint16_t)(kOurPort + 1));
	// Made at the same instant: only the keyed hash of the 4-tuple differs,
	// and it moves them far apart, not by a clock's few ticks.
	for (auto p : { std::make_pair(a, b), std::make_pair(a, c), std::make_pair(b, c) }) {
		int32_t d = (int32_t)(p.first - p.second);
		EXPECT_GT(std::abs((int64_t)d), 1 << 20) << std::hex << p.first << " vs " << p.second;
	}
	for (uint32_t v : { a, b, c })
		EXPECT_NE(v, kIss) << "the fixture's fixed ISN is gone";
}

// ISN = M + F(4-tuple, secret), M a 4 µs clock: with the secret fixed, the
// same 4-tuple one second later starts 250000 higher, exactly.
TEST_F(TcpIsn, Isn_SameFourTupleOneSecondLater_250000Higher)
{
	Start();
	uint32_t a = ConnectIss(kPeerPort, kOurPort);
	Forget();
	Advance(1000);
	ExpectNoTx();
	uint32_t b = ConnectIss(kPeerPort, kOurPort);
	EXPECT_EQ(b - a, 250000u);
	Forget();
	AdvanceUs(4);
	uint32_t c = ConnectIss(kPeerPort, kOurPort);
	EXPECT_EQ(c - b, 1u) << "one tick of 4 µs";
	Forget();
}

TEST_F(TcpIsn, Isn_PassiveSameFourTupleOneSecondLater_250000Higher)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(Listen());
	Inject(PeerSyn());
	TcpSeg a = ParseTcp(ExpectOneTx());
	EXPECT_EQ(FlagsString(a.flags), "SA");
	Inject(Seg().rst().seq(P(1)));
	ExpectNoTx();
	EXPECT_EQ(Count(DTCP_TCP_SYN_RECEIVED), 0u);
	Advance(1000);
	ExpectNoTx();
	iss_ = a.seq + 250000;
	TcpSeg b = SynIn(PeerSyn());
	EXPECT_EQ(b.seq - a.seq, 250000u);
	AckIn();
}

} // namespace
