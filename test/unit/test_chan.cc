// SPDX-License-Identifier: BSD-3-Clause
// Channels (dtcp/chan.h): an application on another thread talks to the
// worker through two SP/SC rings. Zero copy proven on a 1 MiB echo (every
// mbuf the worker's pool gives counted, every payload byte on the wire
// traced to the very buffer the port received); send credit refused and
// given back as the peer acknowledges; an application that stops draining
// its events closes the TCP window with nothing dropped; stale handles
// refused; ring sizes validated; sends beyond the mbuf budget held in order.
#include "tcp_harness.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <thread>
#include <vector>

#include <rte_errno.h>
#include <rte_mempool.h>

#include <dtcp/chan.h>

namespace {

// ---- A pool that counts what it gives ------------------------------------------------
// The worker's pool runs on the ring ops with a dequeue that counts objects:
// with no per-lcore cache, every mbuf allocated from it passes there.
std::atomic<uint64_t> g_pool_gets{0};
rte_mempool_dequeue_t g_ring_dequeue = nullptr;
constexpr const char *kCountingOps = "dtcp_test_count";

int CountingDequeue(struct rte_mempool *mp, void **objs, unsigned n)
{
	int rc = g_ring_dequeue(mp, objs, n);

	if (rc == 0)
		g_pool_gets += n;
	return rc;
}

bool RegisterCountingOps()
{
	static bool done = false;
	struct rte_mempool_ops ops;

	if (done)
		return true;
	for (unsigned i = 0; i < rte_mempool_ops_table.num_ops; i++) {
		if (strcmp(rte_mempool_ops_table.ops[i].name, "ring_mp_mc") != 0)
			continue;
		ops = rte_mempool_ops_table.ops[i];
		g_ring_dequeue = ops.dequeue;
		snprintf(ops.name, sizeof(ops.name), "%s", kCountingOps);
		ops.dequeue = CountingDequeue;
		done = rte_mempool_register_ops(&ops) >= 0;
		return done;
	}
	return false;
}

uint32_t HandleGen(dtcp_chan_handle h) { return (uint32_t)(h >> 32); }
uint32_t HandleId(dtcp_chan_handle h) { return (uint32_t)h; }

class Chan : public TcpTest {
protected:
	static constexpr unsigned kSeg = 1460;

	void SetUp() override
	{
		static unsigned seq;
		char name[RTE_MEMPOOL_NAMESIZE];

		TcpTest::SetUp();
		if (HasFatalFailure())
			return;
		cfg_.tcp_timestamps = 0;
		cfg_.tcp_window_scale = 0;
		// The worker's pool counts its allocations; the peer's frames (and
		// the application's own payload) come from a pool of their own.
		ASSERT_TRUE(RegisterCountingOps());
		rte_mempool_free(pool_);
		snprintf(name, sizeof(name), "chan_wpool%u", seq);
		pool_ = rte_pktmbuf_pool_create_by_ops(name, pool_size_, 0, 0, buf_size_,
						       SOCKET_ID_ANY, kCountingOps);
		ASSERT_NE(pool_, nullptr) << rte_strerror(rte_errno);
		in_use_before_ = rte_mempool_in_use_count(pool_);
		snprintf(name, sizeof(name), "chan_ppool%u", seq);
		peer_pool_ = rte_pktmbuf_pool_create(name, 4095, 0, 0, buf_size_, SOCKET_ID_ANY);
		ASSERT_NE(peer_pool_, nullptr) << rte_strerror(rte_errno);
		snprintf(chan_name_, sizeof(chan_name_), "tchan%u", seq++);
		dtcp_chan_params_defaults(&params_);
		params_.name = chan_name_;
	}

	void Start() override
	{
		char err[256] = "";

		TcpTest::Start();
		if (HasFatalFailure())
			return;
		ch_ = dtcp_chan_create(&params_, err, sizeof(err));
		ASSERT_NE(ch_, nullptr) << err;
		ASSERT_EQ(dtcp_worker_add_chan(w_, ch_), 0);
		EXPECT_EQ(dtcp_worker_add_chan(w_, ch_), -EEXIST);
	}

	// The worker goes first (its connections without events), then the
	// channel (what its rings and slots hold), then the pools are checked.
	void TearDown() override
	{
		struct rte_mbuf *m;

		for (struct rte_mbuf *k : app_held_)
			rte_pktmbuf_free(k);
		if (w_ != nullptr) {
			EXPECT_EQ(Unaccounted(), 0) << "frames received vs frames ended";
			dtcp_worker_destroy(w_);
			w_ = nullptr;
		}
		while (port_ != nullptr && dtcp_memport_take(port_, &m, 1) == 1)
			rte_pktmbuf_free(m);
		dtcp_chan_destroy(ch_);
		if (peer_pool_ != nullptr) {
			EXPECT_EQ(rte_mempool_in_use_count(peer_pool_), 0u) << "peer/app mbuf leak";
			rte_mempool_free(peer_pool_);
		}
		TcpTest::TearDown();
	}

	uint64_t CtrSinceMark(enum dtcp_ctr c) const { return Ctr(c) - mark_[c]; }

	// A frame of the peer in an mbuf of the peer's pool; the mbuf, for identity checks.
	struct rte_mbuf *InjectPeer(const Seg &s)
	{
		Bytes f = Frame(s);
		struct rte_mbuf *m = rte_pktmbuf_alloc(peer_pool_);

		EXPECT_NE(m, nullptr);
		if (m == nullptr)
			return nullptr;
		memcpy(rte_pktmbuf_append(m, (uint16_t)f.size()), f.data(), f.size());
		EXPECT_EQ(dtcp_memport_inject(port_, m), 0);
		return m;
	}

	// The application's payload: a chain of segments of seg bytes each.
	struct rte_mbuf *AppChain(const Bytes &b, size_t seg = 2048)
	{
		struct rte_mbuf *head = nullptr;

		for (size_t off = 0; off < b.size(); off += seg) {
			size_t n = std::min(seg, b.size() - off);
			struct rte_mbuf *m = rte_pktmbuf_alloc(peer_pool_);

			EXPECT_NE(m, nullptr);
			memcpy(rte_pktmbuf_append(m, (uint16_t)n), b.data() + off, n);
			if (head == nullptr)
				head = m;
			else
				EXPECT_EQ(rte_pktmbuf_chain(head, m), 0);
		}
		return head;
	}

	std::vector<struct dtcp_chan_event> Recv()
	{
		std::vector<struct dtcp_chan_event> out;
		struct dtcp_chan_event evs[16];
		unsigned n;

		for (int i = 0; i < 1000 && (n = dtcp_chan_recv(ch_, evs, 16)) > 0; i++)
			out.insert(out.end(), evs, evs + n);
		return out;
	}

	static std::string Types(const std::vector<struct dtcp_chan_event> &evs)
	{
		std::string s;

		for (const auto &e : evs) {
			s += s.empty() ? "" : " ";
			s += dtcp_chan_event_name((enum dtcp_chan_event_type)e.type);
		}
		return s;
	}

	// Listen through the channel, a real handshake from the peer, and the
	// connection accepted: listener_h_ and h_, snd_ = rcv_ = 1.
	void OpenThroughChan(uint64_t user = 7)
	{
		ASSERT_EQ(dtcp_chan_listen(ch_, 0, kOurPort, nullptr, user), 0);
		Poll();
		auto evs = Recv();
		ASSERT_EQ(Types(evs), "LISTENING");
		EXPECT_EQ(evs[0].user, user);
		listener_h_ = evs[0].handle;
		Inject(PeerSyn());
		TcpSeg sa = ParseTcp(ExpectOneTx());
		ASSERT_EQ(FlagsString(sa.flags), "SA");
		ASSERT_EQ(sa.seq, O(0));
		ASSERT_EQ(sa.ack, P(1));
		Inject(Seg().ack().seq(P(1)).ack_(O(1)).win(kPeerWin));
		ExpectNoTx();
		evs = Recv();
		ASSERT_EQ(Types(evs), "ACCEPTED");
		EXPECT_EQ(evs[0].listener, listener_h_);
		EXPECT_EQ(evs[0].user, user);
		EXPECT_EQ(evs[0].credit, cfg_.tcp_sndbuf);
		h_ = evs[0].handle;
		EXPECT_EQ(dtcp_chan_send_credit(ch_, h_), cfg_.tcp_sndbuf);
		snd_ = rcv_ = 1;
		Mark();
	}

	Bytes ChainBytes(const struct rte_mbuf *m) { return MbufBytes(m); }

	struct rte_mempool *peer_pool_ = nullptr;
	struct dtcp_chan_params params_;
	char chan_name_[32];
	struct dtcp_chan *ch_ = nullptr;
	dtcp_chan_handle listener_h_ = 0, h_ = 0;
	std::vector<struct rte_mbuf *> app_held_;   // freed at TearDown
};

// ---- Zero copy: 1 MiB echoed by an application thread ----------------------------------

class ChanEcho : public Chan {
protected:
	// The echo below; exact_pieces: each data frame references exactly one
	// received segment (frames cut where the peer's were).
	void Echo(bool exact_pieces);
};

// What the application thread saw, read by the test after join().
struct EchoApp {
	struct dtcp_chan *ch = nullptr;
	dtcp_chan_handle h = 0;           // the connection, accepted before the thread starts
	std::atomic<bool> stop{false};
	std::atomic<bool> done{false};
	// Every DATA segment, in order: the mbuf and its length.
	std::vector<std::pair<const struct rte_mbuf *, uint32_t>> segs;
	uint64_t bytes_in = 0, bytes_out = 0, credit_back = 0;
	unsigned writable = 0, eagain = 0, unexpected = 0;
	std::string error;

	// Receive DATA, hand the same mbufs back (as much as the credit allows),
	// close once the peer has closed and everything went back.
	void Run()
	{
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
		std::deque<struct rte_mbuf *> pending;
		bool peer_closed = false;

		for (uint64_t it = 0; it < 500000000ull && !stop.load(); it++) {
			struct dtcp_chan_event evs[32];
			unsigned n = dtcp_chan_recv(ch, evs, 32);
			bool progress = n > 0;

			if ((it & 1023) == 0 && std::chrono::steady_clock::now() > deadline) {
				error = "application thread out of time";
				break;
			}
			for (unsigned k = 0; k < n; k++) {
				const struct dtcp_chan_event &e = evs[k];

				switch ((enum dtcp_chan_event_type)e.type) {
				case DTCP_CHAN_EV_DATA:
					for (const struct rte_mbuf *s = e.data; s != nullptr; s = s->next)
						segs.emplace_back(s, s->data_len);
					bytes_in += e.data->pkt_len;
					pending.push_back(e.data);
					break;
				case DTCP_CHAN_EV_WRITABLE:
					writable++;
					credit_back += e.credit;
					break;
				case DTCP_CHAN_EV_PEER_CLOSED:
					peer_closed = true;
					break;
				case DTCP_CHAN_EV_LISTENING:
				case DTCP_CHAN_EV_ACCEPTED:
				case DTCP_CHAN_EV_CONNECTED:
				case DTCP_CHAN_EV_REFUSED:
				case DTCP_CHAN_EV_CLOSED:
					unexpected++;
					rte_pktmbuf_free(e.data);
					break;
				}
			}
			while (!pending.empty()) {
				int rc = dtcp_chan_send_prefix(ch, h, &pending.front());

				if (rc == -EAGAIN || rc == -ENOBUFS) {
					eagain += rc == -EAGAIN;
					break;
				}
				if (rc <= 0) {
					error = "send: " + std::to_string(rc);
					stop = true;
					break;
				}
				progress = true;
				bytes_out += (uint64_t)rc;
				if (pending.front() == nullptr)
					pending.pop_front();
			}
			if (peer_closed && pending.empty()) {
				int rc = dtcp_chan_close(ch, h);

				if (rc == 0)
					break;
				if (rc != -ENOBUFS) {
					error = "close refused";
					break;
				}
			}
			if (!progress)
				std::this_thread::yield();
		}
		for (struct rte_mbuf *m : pending)
			rte_pktmbuf_free(m);
		done = true;
	}
};

// A peer sends exactly 1 MiB in full segments; an application on its own
// thread receives it through the channel and sends the very same mbufs
// back. On the wire: the 1 MiB echoed in order, byte for byte. Zero copy:
// the stack copied no payload byte; the application got the mbufs the port
// received (pointer identity, in order); every data frame that left is one
// header mbuf from the worker's pool followed by indirect mbufs over those
// same buffers (identity, and the payload address); and the worker's pool
// gave exactly one header per frame plus one reference per payload piece,
// nothing else.
void
ChanEcho::Echo(bool exact_pieces)
{
	constexpr uint32_t kTotal = 1u << 20;
	constexpr uint16_t kPeerWnd = 44 * kSeg;   // whole segments: frames cut on mbuf edges
	cfg_.tcp_sndbuf = 32768;                   // credit runs out and comes back many times
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThroughChan());
	const Bytes stream = Pattern(kTotal, 11);

	EchoApp app;
	app.ch = ch_;
	app.h = h_;
	uint64_t gets_before = g_pool_gets.load();
	std::thread th([&app] { app.Run(); });

	// The peer: data within our window, ACKs of what comes back.
	std::vector<std::pair<const struct rte_mbuf *, uint32_t>> injected; // mbuf, stream offset
	uint32_t sent = 0, acked = 0, wnd = 65535, echoed = 0, acked_echo = 0;
	bool fin_sent = false, fin_acked = false, our_fin = false;
	uint64_t frames = 0, data_frames = 0, headers = 0, refs = 0, bad_ref = 0;
	Bytes echo;
	echo.reserve(kTotal);
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
	uint64_t it = 0;
	for (; it < 5000000 && !(fin_acked && our_fin && app.done.load()); it++) {
		if ((it & 255) == 0 && std::chrono::steady_clock::now() > deadline)
			break;
		bool progress = false;
		for (int k = 0; k < 32 && sent < kTotal; k++) {
			uint32_t n = std::min<uint32_t>(kSeg, kTotal - sent);
			if (sent + n > acked + wnd)
				break;
			Bytes piece(stream.begin() + sent, stream.begin() + sent + n);
			struct rte_mbuf *m = InjectPeer(Seg().ack().seq(P(1 + sent)).ack_(O(1 + echoed))
							.win(kPeerWnd).data(piece));
			ASSERT_NE(m, nullptr);
			injected.emplace_back(m, sent);
			sent += n;
			acked_echo = echoed;
			progress = true;
		}
		if (sent == kTotal && echoed == kTotal && !fin_sent) {
			InjectPeer(Seg().fin().ack().seq(P(1 + kTotal)).ack_(O(1 + echoed)).win(kPeerWnd));
			fin_sent = true;
		}
		dtcp_worker_poll(w_, now_ns_);
		struct rte_mbuf *out[64];
		unsigned n;
		while ((n = dtcp_memport_take(port_, out, 64)) > 0) {
			progress = true;
			for (unsigned k = 0; k < n; k++) {
				struct rte_mbuf *f = out[k];
				TcpSeg s = ParseTcp(MbufBytes(f));
				frames++;
				ASSERT_TRUE(s.ok && s.cksum_ok) << s;
				acked = std::max(acked, s.ack - P(1));
				wnd = s.win;
				// The first mbuf is the header, from the worker's pool.
				EXPECT_TRUE(RTE_MBUF_DIRECT(f));
				EXPECT_EQ(f->pool, pool_);
				EXPECT_EQ(f->data_len, 54u) << "Ethernet, IPv4 and TCP headers only";
				headers++;
				if (s.Has(kFin)) {
					EXPECT_EQ(s.seq, O(1 + kTotal));
					our_fin = true;
				}
				if (!s.payload.empty()) {
					data_frames++;
					ASSERT_EQ(s.seq, O(1 + echoed)) << "in order, nothing lost";
					echo.insert(echo.end(), s.payload.begin(), s.payload.end());
					// Every payload piece: an indirect mbuf over the received buffer.
					uint32_t off = echoed;
					for (struct rte_mbuf *p = f->next; p != nullptr; p = p->next) {
						refs++;
						struct rte_mbuf *d = rte_mbuf_from_indirect(p);
						auto at = std::upper_bound(injected.begin(), injected.end(), off,
							[](uint32_t o, const std::pair<const struct rte_mbuf *, uint32_t> &e) {
								return o < e.second;
							});
						bool ok = !RTE_MBUF_DIRECT(p) && at != injected.begin();
						if (ok) {
							--at;
							ok = d == at->first &&
							     rte_pktmbuf_mtod(p, const uint8_t *) ==
								     rte_pktmbuf_mtod(d, const uint8_t *) + (off - at->second);
						}
						bad_ref += !ok;
						off += p->data_len;
					}
					echoed += (uint32_t)s.payload.size();
				}
				rte_pktmbuf_free(f);
			}
		}
		if (our_fin && fin_sent && !fin_acked) {
			InjectPeer(Seg().ack().seq(P(2 + kTotal)).ack_(O(2 + kTotal)).win(kPeerWnd));
			fin_acked = true;
			dtcp_worker_poll(w_, now_ns_);
		} else if (echoed != acked_echo && sent == kTotal) {
			InjectPeer(Seg().ack().seq(P(1 + sent + (fin_sent ? 1 : 0))).ack_(O(1 + echoed))
					   .win(kPeerWnd));
			acked_echo = echoed;
			progress = true;
		} else if (echoed != acked_echo && sent + kSeg > acked + wnd) {
			// No data of ours to carry the ACK: a pure one.
			InjectPeer(Seg().ack().seq(P(1 + sent)).ack_(O(1 + echoed)).win(kPeerWnd));
			acked_echo = echoed;
			progress = true;
		}
		if (!progress)
			std::this_thread::yield();
	}
	app.stop = true;
	th.join();
	dtcp_worker_poll(w_, now_ns_);
	struct rte_mbuf *rest;
	while (dtcp_memport_take(port_, &rest, 1) == 1) {
		frames++;
		headers++;
		refs += rest->nb_segs - 1u;
		rte_pktmbuf_free(rest);
	}
	uint64_t gets = g_pool_gets.load() - gets_before;

	ASSERT_EQ(app.error, "");
	EXPECT_LT(it, 5000000u);
	EXPECT_TRUE(fin_acked && our_fin) << "closed both ways";
	// The bytes: 1 MiB in, the same 1 MiB out, in order.
	EXPECT_EQ(app.bytes_in, kTotal);
	EXPECT_EQ(app.bytes_out, kTotal);
	EXPECT_EQ(echoed, kTotal);
	EXPECT_TRUE(echo == stream) << "echoed bytes differ from those sent";
	EXPECT_EQ(app.unexpected, 0u);
	// Credit: 32 KiB at the start, the rest given back by WRITABLE.
	EXPECT_GE(app.credit_back, (uint64_t)kTotal - 32768);
	EXPECT_GE(app.writable, 1u);
	// No copy by the stack.
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_payload_copies), 0u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_payload_copy_bytes), 0u);
	// The application got the port's own mbufs, in order, each whole.
	ASSERT_EQ(app.segs.size(), injected.size());
	size_t mismatched = 0;
	for (size_t k = 0; k < injected.size(); k++)
		mismatched += app.segs[k].first != injected[k].first ||
			      app.segs[k].second != std::min<uint32_t>(kSeg, kTotal - injected[k].second);
	EXPECT_EQ(mismatched, 0u) << "DATA mbufs are not the mbufs received";
	// Frames out: the application's buffers by reference, one piece each
	// (frames are cut where the received segments were).
	EXPECT_EQ(bad_ref, 0u) << "payload pieces not over the received buffers";
	EXPECT_EQ(data_frames, (kTotal + kSeg - 1) / kSeg);
	if (exact_pieces) {
		EXPECT_EQ(refs, data_frames);
	} else {
		EXPECT_LE(refs, 2 * data_frames) << "a segment spans at most two received ones";
	}
	// The worker's pool: one header per frame, one reference per piece. Nothing else.
	EXPECT_EQ(headers, frames);
	EXPECT_EQ(gets, headers + refs) << "frames " << frames << " data " << data_frames;
	// Nothing refused, stalled or stale on the way.
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_cmd_refused), 0u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_stale_handle), 0u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_send_held), 0u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_send_refused), 0u);
	EXPECT_GT(CtrSinceMark(DTCP_CTR_chan_cmds), 0u);
	struct dtcp_chan_app_stats st;
	dtcp_chan_app_stats(ch_, &st);
	EXPECT_EQ(st.send_bytes, kTotal);
	EXPECT_EQ(st.events_dropped, 0u);
	std::cout << "[ echo ] frames " << frames << " (data " << data_frames << "), pool gets "
		  << gets << ", WRITABLE " << app.writable << ", EAGAIN " << app.eagain
		  << ", loop " << it << ", ring full " << CtrSinceMark(DTCP_CTR_chan_ev_ring_full)
		  << ", rx paused " << CtrSinceMark(DTCP_CTR_chan_rx_paused) << ", cmd ring full "
		  << st.cmd_ring_full << "\n";
}

TEST_F(ChanEcho, Echo1MiB_AppThread_ZeroCopyProven)
{
	Echo(true);
}

// The same through rings of 8: the event ring fills (the worker holds
// data and pauses receiving), the command ring fills (-ENOBUFS, sent
// again); still every byte, in order, no copy, every mbuf accounted for.
TEST_F(ChanEcho, Echo1MiB_TinyRings_StallsNoLossNoCopy)
{
	params_.ev_ring_size = 8;
	params_.cmd_ring_size = 8;
	Echo(false);
}

// ---- Flow control ---------------------------------------------------------------------

// Credit: the whole send buffer at first; a send beyond it is refused on
// the application's side; WRITABLE gives back what the peer acknowledged,
// once a quarter of the buffer is free, and the rest when all is.
TEST_F(Chan, SendCredit_EagainThenWritableAsAcked)
{
	cfg_.tcp_sndbuf = 8192;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThroughChan());
	// The peer's window is shut: nothing leaves the send queue.
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).win(0));
	ExpectNoTx();
	Bytes all = Pattern(8192, 3);
	ASSERT_EQ(dtcp_chan_send(ch_, h_, AppChain(all)), 0);
	EXPECT_EQ(dtcp_chan_send_credit(ch_, h_), 0u);
	struct rte_mbuf *one = AppChain(Bytes(1, 'x'));
	EXPECT_EQ(dtcp_chan_send(ch_, h_, one), -EAGAIN);
	app_held_.push_back(one);
	struct dtcp_chan_app_stats st;
	dtcp_chan_app_stats(ch_, &st);
	EXPECT_EQ(st.no_credit, 1u);
	EXPECT_EQ(st.send_bytes, 8192u);
	Poll();
	ExpectNoTx();
	EXPECT_EQ(Recv().size(), 0u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_tcp_send_refused), 0u) << "the credit kept the stack from refusing";
	// The window opens: four segments.
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).win(4 * kSeg));
	std::vector<Bytes> tx = TakeTx();
	ASSERT_EQ(tx.size(), 4u);
	for (uint32_t k = 0; k < 4; k++)
		ExpectSeg(tx[k], "A", O(1 + kSeg * k), P(1));
	// 1460 acknowledged: below a quarter (2048), no credit yet.
	Inject(Seg().ack().seq(P(1)).ack_(O(1 + kSeg)).win(4 * kSeg));
	TakeTx();
	Poll();
	EXPECT_EQ(Recv().size(), 0u);
	EXPECT_EQ(dtcp_chan_send_credit(ch_, h_), 0u);
	// 2920: WRITABLE with exactly 2920.
	Inject(Seg().ack().seq(P(1)).ack_(O(1 + 2 * kSeg)).win(4 * kSeg));
	TakeTx();
	Poll();
	auto evs = Recv();
	ASSERT_EQ(Types(evs), "WRITABLE");
	EXPECT_EQ(evs[0].credit, 2 * kSeg);
	EXPECT_EQ(evs[0].handle, h_);
	EXPECT_EQ(dtcp_chan_send_credit(ch_, h_), 2 * kSeg);
	struct rte_mbuf *big = AppChain(Bytes(2 * kSeg + 1, 'y'));
	app_held_.push_back(big);
	EXPECT_EQ(dtcp_chan_send(ch_, h_, big), -EAGAIN) << "one byte beyond the credit";
	// 5840 acknowledged: 2920 more (a quarter or more).
	Inject(Seg().ack().seq(P(1)).ack_(O(1 + 4 * kSeg)).win(8 * kSeg));
	TakeTx();
	Poll();
	evs = Recv();
	ASSERT_EQ(Types(evs), "WRITABLE");
	EXPECT_EQ(evs[0].credit, 2 * kSeg);
	// Everything acknowledged: the rest (2352, below a quarter) makes the credit whole.
	Inject(Seg().ack().seq(P(1)).ack_(O(1 + 8192)).win(8 * kSeg));
	TakeTx();
	Poll();
	evs = Recv();
	ASSERT_EQ(Types(evs), "WRITABLE");
	EXPECT_EQ(evs[0].credit, 8192u - 4 * kSeg);
	EXPECT_EQ(dtcp_chan_send_credit(ch_, h_), 8192u);
	dtcp_chan_app_stats(ch_, &st);
	EXPECT_EQ(st.no_credit, 2u);
}

// The application stops draining its events: the ring fills (7 events in
// a ring of 8), the next DATA waits in the worker and the connection's
// receiving pauses, so the window the peer sees closes to 0 and data
// beyond it is not acknowledged; nothing is dropped. Draining resumes:
// every byte in order and the window reopened at once.
TEST_F(Chan, EventRingFull_WindowClosesNothingDropped_DrainResumes)
{
	params_.ev_ring_size = 8;
	cfg_.tcp_rcvbuf = 4096;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThroughChan());
	Bytes sent;
	std::string wins;
	for (uint32_t k = 0; k < 12; k++) {
		Bytes piece = Pattern(1024, 100 + k);
		Inject(Seg().ack().seq(P(1 + 1024 * k)).ack_(O(1)).data(piece));
		TcpSeg a = ExpectSeg(ExpectOneTx(), "A", O(1), P(1 + 1024 * (k + 1)));
		wins += std::to_string(a.win) + " ";
		sent.insert(sent.end(), piece.begin(), piece.end());
	}
	// 7 DATA on the ring, the 8th held: the window stayed whole until then,
	// then closes by what the stack holds.
	EXPECT_EQ(wins, "4096 4096 4096 4096 4096 4096 4096 4096 3072 2048 1024 0 ");
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_ev_ring_full), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_rx_paused), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_events), 7u);
	// Beyond the closed window: not taken, the ACK says 0.
	Bytes late = Pattern(100, 200);
	Inject(Seg().ack().seq(P(1 + 12 * 1024)).ack_(O(1)).data(late));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1 + 12 * 1024), 0);
	// Drain: 7 DATA. The next poll gives the held one and resumes: the rest
	// comes as one DATA and the window reopens.
	auto evs = Recv();
	ASSERT_EQ(Types(evs), "DATA DATA DATA DATA DATA DATA DATA");
	Bytes got;
	for (auto &e : evs) {
		Bytes b = ChainBytes(e.data);
		got.insert(got.end(), b.begin(), b.end());
		rte_pktmbuf_free(e.data);
	}
	Poll();
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1 + 12 * 1024), 4096);
	evs = Recv();
	ASSERT_EQ(Types(evs), "DATA DATA");
	EXPECT_EQ(evs[0].data->pkt_len, 1024u);
	EXPECT_EQ(evs[1].data->pkt_len, 4096u);
	for (auto &e : evs) {
		Bytes b = ChainBytes(e.data);
		got.insert(got.end(), b.begin(), b.end());
		rte_pktmbuf_free(e.data);
	}
	EXPECT_TRUE(got == sent) << "bytes lost or out of order";
	// The refused segment is taken now.
	Inject(Seg().ack().seq(P(1 + 12 * 1024)).ack_(O(1)).data(late));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1 + 12 * 1024 + 100), 4096);
	evs = Recv();
	ASSERT_EQ(Types(evs), "DATA");
	EXPECT_TRUE(ChainBytes(evs[0].data) == late);
	rte_pktmbuf_free(evs[0].data);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_ev_ring_full), 1u);
}

// The application's own pause (dtcp_chan_recv_pause) holds DATA in the
// stack: the window closes; letting go delivers it all.
TEST_F(Chan, AppPause_WindowClosesResumeDelivers)
{
	cfg_.tcp_rcvbuf = 2048;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThroughChan());
	ASSERT_EQ(dtcp_chan_recv_pause(ch_, h_, true), 0);
	Poll();
	Bytes a = Pattern(1024, 1), b = Pattern(1024, 2);
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).data(a));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1025), 1024);
	Inject(Seg().ack().seq(P(1025)).ack_(O(1)).data(b));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(2049), 0);
	EXPECT_EQ(Recv().size(), 0u);
	ASSERT_EQ(dtcp_chan_recv_pause(ch_, h_, false), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "A", O(1), P(2049), 2048);
	auto evs = Recv();
	ASSERT_EQ(Types(evs), "DATA");
	Bytes want = a;
	want.insert(want.end(), b.begin(), b.end());
	EXPECT_TRUE(ChainBytes(evs[0].data) == want);
	rte_pktmbuf_free(evs[0].data);
}

// ---- Handles --------------------------------------------------------------------------

// A command sent before the application heard of the end is refused by the
// worker (-EBADF, counted, the mbufs handed back); once it has heard, the
// application side refuses it itself. The slot comes back with a new
// generation: the old handle stays refused, the new one works.
TEST_F(Chan, StaleHandle_RefusedNotMisused)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThroughChan());
	dtcp_chan_handle old = h_;
	Inject(Seg().rst().seq(P(1)));
	ExpectNoTx();
	// Not yet heard: the send goes on the ring and the worker refuses it.
	struct rte_mbuf *m = AppChain(Bytes(100, 'q'));
	ASSERT_EQ(dtcp_chan_send(ch_, old, m), 0);
	Poll();
	ExpectNoTx();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_stale_handle), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_cmd_refused), 1u);
	auto evs = Recv();
	ASSERT_EQ(Types(evs), "CLOSED REFUSED");
	EXPECT_EQ(evs[0].error, -ECONNRESET);
	EXPECT_EQ(evs[1].handle, old);
	EXPECT_EQ(evs[1].error, -EBADF);
	EXPECT_EQ(evs[1].cmd, DTCP_CHAN_CMD_SEND);
	EXPECT_EQ(evs[1].data, m) << "the application's mbufs come back";
	EXPECT_EQ(evs[1].credit, 100u);
	rte_pktmbuf_free(evs[1].data);
	// Heard: refused on the application's side.
	m = AppChain(Bytes(10, 'r'));
	app_held_.push_back(m);
	EXPECT_EQ(dtcp_chan_send(ch_, old, m), -EBADF);
	EXPECT_EQ(dtcp_chan_close(ch_, old), -EBADF);
	EXPECT_EQ(dtcp_chan_send_credit(ch_, old), 0u);
	struct dtcp_chan_app_stats st;
	dtcp_chan_app_stats(ch_, &st);
	EXPECT_EQ(st.bad_handle, 2u);
	// A new connection takes the same slot, a new generation.
	rport_ = kPeerPort + 1;
	Inject(PeerSyn().sport(rport_));
	TakeTx();
	Inject(Seg().sport(rport_).ack().seq(P(1)).ack_(O(1)).win(kPeerWin));
	evs = Recv();
	ASSERT_EQ(Types(evs), "ACCEPTED");
	dtcp_chan_handle h2 = evs[0].handle;
	EXPECT_EQ(HandleId(h2), HandleId(old));
	EXPECT_NE(HandleGen(h2), HandleGen(old));
	EXPECT_EQ(dtcp_chan_send(ch_, old, m), -EBADF);
	// The new handle sends; the old one named nothing of it.
	Bytes d = Pattern(300, 9);
	ASSERT_EQ(dtcp_chan_send(ch_, h2, AppChain(d)), 0);
	Poll();
	TcpSeg s = ExpectSeg(ExpectOneTx(), "PA", O(1), P(1));
	EXPECT_TRUE(s.payload == d);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_stale_handle), 1u);
}

// Handles the application never had are refused at once; a listen on a
// port in use comes back as CLOSED with the stack's error and the user value.
TEST_F(Chan, BadHandlesAndFailedListen)
{
	Start();
	struct rte_mbuf *m = AppChain(Bytes(10, 'z'));
	app_held_.push_back(m);
	EXPECT_EQ(dtcp_chan_send(ch_, 0, m), -EBADF);
	EXPECT_EQ(dtcp_chan_send(ch_, ((uint64_t)1 << 32) | 5, m), -EBADF);
	EXPECT_EQ(dtcp_chan_send(ch_, ((uint64_t)1 << 32) | 999999, m), -EBADF);
	ASSERT_EQ(dtcp_chan_listen(ch_, 0, kOurPort, nullptr, 1), 0);
	ASSERT_EQ(dtcp_chan_listen(ch_, 0, kOurPort, nullptr, 2), 0);
	ASSERT_EQ(dtcp_chan_listen(ch_, 0, 0, nullptr, 3), 0);
	Poll();
	auto evs = Recv();
	ASSERT_EQ(Types(evs), "LISTENING CLOSED CLOSED");
	EXPECT_EQ(evs[1].user, 2u);
	EXPECT_EQ(evs[1].error, -EADDRINUSE);
	EXPECT_EQ(evs[1].handle, 0u);
	EXPECT_EQ(evs[2].error, -EINVAL);
	EXPECT_EQ(dtcp_chan_send(ch_, evs[0].handle, m), -EINVAL) << "a listener sends nothing";
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_cmd_refused), 2u);
}

// An active open through the channel: the SYN, the SYN-ACK, CONNECTED with
// the whole send buffer as credit and the connect's user value.
TEST_F(Chan, Connect_ConnectedWithCredit)
{
	cfg_.tcp_sndbuf = 16384;
	Start();
	ASSERT_EQ(dtcp_chan_connect(ch_, kPeerIp, kPeerPort, 0, kOurPort, 42), 0);
	Poll();
	TcpSeg syn = ParseTcp(ExpectOneTx());
	ASSERT_EQ(FlagsString(syn.flags), "S");
	EXPECT_EQ(syn.seq, O(0));
	EXPECT_EQ(Recv().size(), 0u);
	Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
	auto evs = Recv();
	ASSERT_EQ(Types(evs), "CONNECTED");
	EXPECT_EQ(evs[0].user, 42u);
	EXPECT_EQ(evs[0].credit, 16384u);
	EXPECT_EQ(dtcp_chan_send_credit(ch_, evs[0].handle), 16384u);
	// Refused by the peer: CLOSED with the reason, and the user value.
	ASSERT_EQ(dtcp_chan_connect(ch_, kPeerIp, kPeerPort, 0, kOurPort + 1, 43), 0);
	Poll();
	ParseTcp(ExpectOneTx());
	Inject(Seg().sport(kPeerPort).dport(kOurPort + 1).rst().ack().seq(0).ack_(O(1)));
	evs = Recv();
	ASSERT_EQ(Types(evs), "CLOSED");
	EXPECT_EQ(evs[0].user, 43u);
	EXPECT_EQ(evs[0].error, -ECONNREFUSED);
}

// Every handle in use: a connection the peer opens waits in the listener's
// accept queue (counted), a connect is refused with CLOSED(-ENOSPC); once a
// handle frees, the waiting connection is accepted into it.
TEST_F(Chan, HandlesFull_ConnectionWaitsInAcceptQueue)
{
	params_.conns_max = 2;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThroughChan());
	rport_ = kPeerPort + 1;
	Inject(PeerSyn().sport(rport_));
	TakeTx();
	Inject(Seg().sport(rport_).ack().seq(P(1)).ack_(O(1)).win(kPeerWin));
	EXPECT_EQ(Recv().size(), 0u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_slots_full), 1u);
	Poll();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_slots_full), 1u) << "counted once, not per poll";
	ASSERT_EQ(dtcp_chan_connect(ch_, kPeerIp, 9, 0, 0, 5), 0);
	Poll();
	auto evs = Recv();
	ASSERT_EQ(Types(evs), "CLOSED");
	EXPECT_EQ(evs[0].error, -ENOSPC);
	EXPECT_EQ(evs[0].user, 5u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_slots_full), 2u);
	ExpectNoTx();
	// The first connection closed: its handle goes to the one waiting.
	ASSERT_EQ(dtcp_chan_close(ch_, h_), 0);
	Poll();
	rport_ = kPeerPort;
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(1));
	Poll();
	evs = Recv();
	ASSERT_EQ(Types(evs), "ACCEPTED");
	EXPECT_EQ(evs[0].listener, listener_h_);
	EXPECT_EQ(HandleId(evs[0].handle), HandleId(h_));
	EXPECT_NE(evs[0].handle, h_);
	EXPECT_EQ(dtcp_chan_send_credit(ch_, evs[0].handle), cfg_.tcp_sndbuf);
}

// Closed while sends are held for the mbuf budget: the close waits for
// them; every byte goes, in order, then the FIN.
TEST_F(Chan, MbufBudgetSpent_CloseWaitsForHeldSends)
{
	cfg_.tcp_mbufs_max = 64;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThroughChan());
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).win(0));
	Bytes all = Pattern(70 * 100, 6);
	ASSERT_EQ(dtcp_chan_send(ch_, h_, AppChain(all, 100)), 0);
	ASSERT_EQ(dtcp_chan_close(ch_, h_), 0);
	Poll();
	ExpectNoTx();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_send_held), 1u);
	Bytes wire;
	uint32_t fin_seq = 0;
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).win(8000));
	for (int round = 0; round < 50 && fin_seq == 0; round++) {
		for (const Bytes &f : TakeTx()) {
			TcpSeg s = ParseTcp(f);
			ASSERT_EQ(s.seq, O(1 + wire.size()));
			wire.insert(wire.end(), s.payload.begin(), s.payload.end());
			if (s.Has(kFin))
				fin_seq = s.seq + (uint32_t)s.payload.size();
		}
		Inject(Seg().ack().seq(P(1)).ack_(O(1 + wire.size())).win(8000));
		Poll();
	}
	EXPECT_TRUE(wire == all) << wire.size() << " bytes of " << all.size();
	EXPECT_EQ(fin_seq, O(1 + all.size())) << "FIN after the last byte";
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_send_lost), 0u);
	EXPECT_EQ(Recv().size(), 0u) << "no event after close";
	TakeTx();
}

// The copy counter moves on the one copying path (dtcp_tcp_send_copy), so
// its staying at 0 in the echo means something.
TEST_F(Chan, PayloadCopyCounter_CountsSendCopy)
{
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenPassive());
	std::string text(3000, 'c');
	ASSERT_EQ(dtcp_tcp_send_copy(w_, conn_, text.data(), (uint32_t)text.size()), 3000);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_payload_copy_bytes), 3000u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_payload_copies), 2u) << "two mbufs of 2048 and 952";
	TakeTx();
}

// ---- Bounds ---------------------------------------------------------------------------

// Ring sizes: powers of two within DTCP_CHAN_RING_MIN..MAX; handles 1..
// DTCP_CHAN_CONNS_MAX; a command burst within DTCP_CHAN_BURST_MAX.
TEST(ChanParams, RingSizesValidated)
{
	struct dtcp_chan_params p;
	char err[160];
	struct {
		uint32_t ev, cmd, conns, burst;
		bool ok;
	} cases[] = {
		{ 1024, 1024, 16, 32, true },
		{ 8, 8, 1, 1, true },
		{ 0, 1024, 16, 32, false },
		{ 4, 1024, 16, 32, false },
		{ 1000, 1024, 16, 32, false },
		{ DTCP_CHAN_RING_MAX * 2, 1024, 16, 32, false },
		{ 1024, 7, 16, 32, false },
		{ 1024, 1024, 0, 32, false },
		{ 1024, 1024, DTCP_CHAN_CONNS_MAX + 1, 32, false },
		{ 1024, 1024, 16, 0, false },
		{ 1024, 1024, 16, DTCP_CHAN_BURST_MAX + 1, false },
	};
	for (const auto &c : cases) {
		dtcp_chan_params_defaults(&p);
		p.name = "tchan_params";
		p.ev_ring_size = c.ev;
		p.cmd_ring_size = c.cmd;
		p.conns_max = c.conns;
		p.cmd_burst = c.burst;
		err[0] = '\0';
		struct dtcp_chan *ch = dtcp_chan_create(&p, err, sizeof(err));
		EXPECT_EQ(ch != nullptr, c.ok) << c.ev << " " << c.cmd << " " << c.conns << " "
					       << c.burst << ": " << err;
		if (!c.ok) {
			EXPECT_NE(strstr(err, "tchan_params"), nullptr) << err;
		}
		dtcp_chan_destroy(ch);
	}
	// Two channels of one name: the second is refused, with a message.
	dtcp_chan_params_defaults(&p);
	p.name = "tchan_dup";
	struct dtcp_chan *a = dtcp_chan_create(&p, err, sizeof(err));
	ASSERT_NE(a, nullptr) << err;
	EXPECT_EQ(dtcp_chan_create(&p, err, sizeof(err)), nullptr);
	EXPECT_NE(strstr(err, "rings"), nullptr) << err;
	dtcp_chan_destroy(a);
}

// The command ring full: -ENOBUFS, counted; one poll makes room.
TEST_F(Chan, CommandRingFull_EnobufsUntilPolled)
{
	params_.cmd_ring_size = 8;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThroughChan());
	int ok = 0, full = 0;
	for (int k = 0; k < 10; k++) {
		int rc = dtcp_chan_recv_pause(ch_, h_, k % 2 == 0);
		ok += rc == 0;
		full += rc == -ENOBUFS;
	}
	EXPECT_EQ(ok, 7);
	EXPECT_EQ(full, 3);
	struct dtcp_chan_app_stats st;
	dtcp_chan_app_stats(ch_, &st);
	EXPECT_EQ(st.cmd_ring_full, 3u);
	Poll();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_cmds), 7u);
	EXPECT_EQ(dtcp_chan_recv_pause(ch_, h_, false), 0);
}

// Sends beyond the worker's mbuf budget: held by the worker, not refused
// and not dropped, handed to the stack piece by piece as acknowledgements
// free the budget; every byte on the wire in order.
TEST_F(Chan, MbufBudgetSpent_SendsHeldAndSentInOrder)
{
	cfg_.tcp_mbufs_max = 64;
	Start();
	ASSERT_NO_FATAL_FAILURE(OpenThroughChan());
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).win(0));
	ExpectNoTx();
	Bytes all = Pattern(80 * 100, 5);
	Bytes first(all.begin(), all.begin() + 70 * 100), second(all.begin() + 70 * 100, all.end());
	ASSERT_EQ(dtcp_chan_send(ch_, h_, AppChain(first, 100)), 0);
	ASSERT_EQ(dtcp_chan_send(ch_, h_, AppChain(second, 100)), 0);
	Poll();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_send_held), 1u);
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_cmd_refused), 0u);
	// The peer takes everything it is sent, window 8000.
	Bytes wire;
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).win(8000));
	for (int round = 0; round < 50 && wire.size() < all.size(); round++) {
		for (const Bytes &f : TakeTx()) {
			TcpSeg s = ParseTcp(f);
			ASSERT_EQ(s.seq, O(1 + wire.size()));
			wire.insert(wire.end(), s.payload.begin(), s.payload.end());
		}
		if (round == 0) {
			EXPECT_EQ(wire.size(), 64u * 100u) << "the budget's worth was in the stack";
		}
		Inject(Seg().ack().seq(P(1)).ack_(O(1 + wire.size())).win(8000));
		Poll();
	}
	EXPECT_TRUE(wire == all) << wire.size() << " bytes of " << all.size();
	EXPECT_EQ(CtrSinceMark(DTCP_CTR_chan_send_lost), 0u);
	TakeTx();
}

} // namespace
