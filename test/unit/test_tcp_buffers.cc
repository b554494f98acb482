// SPDX-License-Identifier: BSD-3-Clause
// Send and receive buffers and the back-pressure they put on the
// application: a full send buffer refuses what does not fit and says when
// there is room again (DTCP_EV_WRITABLE); a paused reader closes the window
// the peer sees instead of dropping data, and reopening it announces the
// room at once. Exact windows, SEQ and ACK on the wire; bytes compared.
#include "tcp_harness.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace {

class TcpBuffers : public TcpTest {
protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		cfg_.tcp_timestamps = 0;
		cfg_.tcp_window_scale = 0;
		cfg_.tcp_sndbuf = 8192;
		cfg_.tcp_rcvbuf = 4096;
	}

	uint64_t CtrSinceMark(enum dtcp_ctr c) const { return Ctr(c) - mark_[c]; }

	// The peer's ACK of O(upto) with window win.
	Seg AckOf(uint32_t upto, uint16_t win = kPeerWin) const
	{
		return Seg().ack().seq(P(rcv_)).ack_(O(upto)).win(win);
	}
};

// The send buffer takes sndbuf bytes and no more; the refusal is counted;
// DTCP_EV_WRITABLE comes once, when what is queued falls to 3/4 of it.
TEST_F(TcpBuffers, SendBufferFull_RefusedThenWritableOnceWhenDrained)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	// The peer's window holds everything back: nothing leaves the queue.
	Inject(AckOf(1, 0));
	ExpectNoTx();
	std::string all(10000, 'b');
	EXPECT_EQ(dtcp_tcp_send_space(conn_), 8192u);
	EXPECT_EQ(dtcp_tcp_send_copy(w_, conn_, all.data(), (uint32_t)all.size()), 8192);
	EXPECT_EQ(dtcp_tcp_send_space(conn_), 0u);
	EXPECT_EQ(dtcp_tcp_send_copy(w_, conn_, all.data(), 1), 0) << "nothing fits";
	EXPECT_GE(CtrSinceMark(DTCP_CTR_tcp_send_refused), 1u);
	Poll();
	ExpectNoTx();
	ExpectNoEvents();
	// The window opens: a full window of 4 segments goes out (the peer's
	// window 4 * 1460 = 5840).
	Inject(AckOf(1, 5840));
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 4u);
	for (size_t k = 0; k < tx.size(); k++)
		ExpectSeg(tx[k], "A", O(1 + 1460 * (uint32_t)k), P(1));
	ExpectNoEvents();
	// 1460 acknowledged: 6732 queued, still above 3/4 (6144): no event.
	Inject(AckOf(1 + 1460, 5840));
	TakeTx();
	ExpectNoEvents();
	// 2920 acknowledged: 5272 queued, below 6144: writable, once.
	Inject(AckOf(1 + 2920, 5840));
	TakeTx();
	ExpectEvent(DTCP_EV_WRITABLE);
	EXPECT_EQ(dtcp_tcp_send_space(conn_), 8192u - 5272u);
	Inject(AckOf(1 + 4380, 5840));
	TakeTx();
	ExpectNoEvents();
}

// A payload of at most [tcp] tx_copy_max bytes leaves as a copy in the
// segment's header mbuf (one mbuf, no reference to the send queue); a
// longer one by reference (the header mbuf and an indirect one); 0 turns
// the copy off. The bytes and the sequence numbers are the same either way.
class TcpTxCopy : public TcpBuffers {
protected:
	// The next frame sent, as an mbuf: its segments and its bytes.
	void TakeFrame(uint16_t *segs, Bytes *bytes)
	{
		struct rte_mbuf *m = nullptr;
		Poll();
		ASSERT_EQ(dtcp_memport_take(port_, &m, 1), 1u);
		*segs = m->nb_segs;
		bytes->resize(m->pkt_len);
		const void *p = rte_pktmbuf_read(m, 0, m->pkt_len, bytes->data());
		ASSERT_NE(p, nullptr);
		if (p != bytes->data())
			memcpy(bytes->data(), p, m->pkt_len);
		rte_pktmbuf_free(m);
	}

	void SendAndCheck(uint32_t seq_off, size_t n, char fill, uint16_t want_segs)
	{
		std::string data(n, fill);
		uint16_t segs = 0;
		Bytes frame;
		ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, data.data(), (uint32_t)n), (int)n);
		ASSERT_NO_FATAL_FAILURE(TakeFrame(&segs, &frame));
		EXPECT_EQ(segs, want_segs) << n << " bytes";
		TcpSeg s = ExpectSeg(frame, "PA", O(seq_off), P(1));
		EXPECT_EQ(s.payload, Bytes(data.begin(), data.end()));
	}
};

TEST_F(TcpTxCopy, UpToTheLimitCopiedBeyondItReferenced)
{
	cfg_.tcp_tx_copy_max = 100;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	Mark();
	ASSERT_NO_FATAL_FAILURE(SendAndCheck(1, 100, 's', 1));
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tx_copied), 1u);
	Inject(AckOf(101));
	ASSERT_NO_FATAL_FAILURE(SendAndCheck(101, 101, 'b', 2));
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tx_copied), 1u) << "101 bytes: a reference";
	ExpectNoTx();
}

TEST_F(TcpTxCopy, LimitZero_AlwaysAReference)
{
	cfg_.tcp_tx_copy_max = 0;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	Mark();
	ASSERT_NO_FATAL_FAILURE(SendAndCheck(1, 1, 'x', 2));
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_tx_copied), 0u);
}

// A copied segment sent again after a timeout carries the same bytes,
// copied again from the send queue, which still holds them.
TEST_F(TcpTxCopy, Retransmission_SameBytesCopiedAgain)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	ASSERT_NO_FATAL_FAILURE(SendAndCheck(1, 40, 'r', 1));
	Advance(1000);           // past the RTO: the segment goes again
	uint16_t segs = 0;
	Bytes frame;
	ASSERT_NO_FATAL_FAILURE(TakeFrame(&segs, &frame));
	EXPECT_EQ(segs, 1u);
	TcpSeg s = ExpectSeg(frame, "PA", O(1), P(1));
	EXPECT_EQ(s.payload, Bytes(40, 'r'));
}

// The worker's mbuf budget bounds the queues of all its connections
// together: a send beyond it is refused (counted), not queued.
TEST_F(TcpBuffers, MbufBudgetSpent_SendRefusedCounted)
{
	cfg_.tcp_mbufs_max = 2;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	Inject(AckOf(1, 0));
	std::string piece(100, 'm');
	// One mbuf per call: two calls fit, the third does not.
	EXPECT_EQ(dtcp_tcp_send_copy(w_, conn_, piece.data(), 100), 100);
	EXPECT_EQ(dtcp_tcp_send_copy(w_, conn_, piece.data(), 100), 100);
	uint64_t refused = Ctr(DTCP_CTR_tcp_send_refused);
	EXPECT_EQ(dtcp_tcp_send_copy(w_, conn_, piece.data(), 100), 0);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_send_refused), refused + 1);
}

// A paused reader: received bytes wait in the stack and the window the peer
// sees shrinks to zero; data beyond it is refused (not acknowledged, not
// lost for good); resuming hands every byte over in order and reopens the
// window with an update at once.
TEST_F(TcpBuffers, ReaderPaused_WindowClosesNothingDroppedResumeReopens)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	dtcp_tcp_recv_pause(w_, conn_, true);
	std::string sent;
	for (uint32_t k = 0; k < 4; k++) {
		std::string piece(1024, (char)('p' + k));
		Inject(Seg().ack().seq(P(1 + 1024 * k)).ack_(O(1)).data(piece));
		ExpectSeg(ExpectOneTx(), "A", O(1), P(1 + 1024 * (k + 1)),
			  (uint16_t)(4096 - 1024 * (k + 1)));
		sent += piece;
	}
	ExpectNoEvents();
	// Beyond the closed window: answered with an ACK of what we hold, window 0.
	Inject(Seg().ack().seq(P(4097)).ack_(O(1)).data("z"));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(4097), 0);
	EXPECT_EQ(Info().rcv_wnd, 0u);
	// Resume: the 4096 bytes, in order, and the window update.
	dtcp_tcp_recv_pause(w_, conn_, false);
	Poll();
	ExpectSeg(ExpectOneTx(), "A", O(1), P(4097), 4096);
	EXPECT_EQ(ReceivedBytes(), Bytes(sent.begin(), sent.end()));
	// The byte refused before is taken now.
	Inject(Seg().ack().seq(P(4097)).ack_(O(1)).data("z"));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(4098), 4096);
	EXPECT_EQ(ReceivedBytes().size(), 4097u);
}

} // namespace
