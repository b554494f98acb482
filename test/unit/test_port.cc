// SPDX-License-Identifier: BSD-3-Clause
// The ethdev port layer on a net_ring pair (what bench/goodput.c runs on):
// a device without a MAC of its own takes the configured one, TX can hand
// the far end whole frames instead of chains, and two workers move a
// stream over the pair, the fault stage losing frames both ways, under a
// fake clock.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <dtcp/dtcp.h>

namespace {

constexpr uint32_t kRingSize = 1024;

class RingPair : public ::testing::Test {
protected:
	void SetUp() override
	{
		static unsigned seq;
		std::string n = std::to_string(seq++);

		ab_ = rte_ring_create(("t_ab" + n).c_str(), kRingSize, SOCKET_ID_ANY,
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
		ba_ = rte_ring_create(("t_ba" + n).c_str(), kRingSize, SOCKET_ID_ANY,
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
		ASSERT_NE(ab_, nullptr);
		ASSERT_NE(ba_, nullptr);
		int a = rte_eth_from_rings(("t_ring_a" + n).c_str(), &ba_, 1, &ab_, 1, SOCKET_ID_ANY);
		int b = rte_eth_from_rings(("t_ring_b" + n).c_str(), &ab_, 1, &ba_, 1, SOCKET_ID_ANY);
		ASSERT_GE(a, 0) << rte_strerror(rte_errno);
		ASSERT_GE(b, 0) << rte_strerror(rte_errno);
		port_id_[0] = (uint16_t)a;
		port_id_[1] = (uint16_t)b;
		for (int i = 0; i < 2; i++) {
			pool_[i] = rte_pktmbuf_pool_create(("t_rpool" + n + "_" + std::to_string(i)).c_str(),
							   8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
							   SOCKET_ID_ANY);
			ASSERT_NE(pool_[i], nullptr) << rte_strerror(rte_errno);
			dtcp_config_defaults(&cfg_[i]);
			cfg_[i].mbufs = 8191;
			cfg_[i].tcp_mbufs_max = 2048;
			cfg_[i].arp_pending_max = 64;
			cfg_[i].frag_max_flows = 16;
			cfg_[i].rx_desc = cfg_[i].tx_desc = 256;
		}
		ASSERT_EQ(Set(0, "ip", "address", "198.18.0.1/24"), 0);
		ASSERT_EQ(Set(1, "ip", "address", "198.18.0.2/24"), 0);
		ASSERT_EQ(Set(0, "port", "mac", "02:00:00:00:00:0a"), 0);
		ASSERT_EQ(Set(1, "port", "mac", "02:00:00:00:00:0b"), 0);
	}

	void TearDown() override
	{
		for (int i = 0; i < 2; i++) {
			dtcp_worker_destroy(w_[i]);
			dtcp_port_destroy(port_[i]);
			rte_eth_dev_stop(port_id_[i]);
			rte_eth_dev_close(port_id_[i]);
		}
		for (struct rte_ring *r : { ab_, ba_ }) {
			struct rte_mbuf *m = nullptr;

			for (unsigned k = 0; r != nullptr && k < kRingSize &&
					     rte_ring_dequeue(r, (void **)&m) == 0; k++)
				rte_pktmbuf_free(m);
			rte_ring_free(r);
		}
		for (int i = 0; i < 2; i++) {
			if (pool_[i] == nullptr)
				continue;
			EXPECT_EQ(rte_mempool_in_use_count(pool_[i]), 0u) << "mbuf leak, pool " << i;
			rte_mempool_free(pool_[i]);
		}
	}

	int Set(int i, const char *sec, const char *key, const char *val)
	{
		return dtcp_config_set(&cfg_[i], sec, key, val, err_, sizeof(err_));
	}

	// Configure both devices and make one port of each (linearizing TX when asked).
	void Open(bool linearize)
	{
		for (int i = 0; i < 2; i++) {
			ASSERT_EQ(dtcp_ethdev_configure(port_id_[i], &cfg_[i], pool_[i], err_,
							sizeof(err_)), 0) << err_;
			port_[i] = dtcp_ethdev_port(port_id_[i], 0, pool_[i]);
			ASSERT_NE(port_[i], nullptr);
			if (linearize) {
				ASSERT_EQ(dtcp_ethdev_port_linearize_tx(port_[i]), 0);
			}
		}
	}

	// A frame of n bytes as a chain of segments of at most seg bytes, byte k = k * 7.
	struct rte_mbuf *Chain(size_t n, size_t seg)
	{
		struct rte_mbuf *head = nullptr;

		for (size_t off = 0; off < n; off += seg) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool_[0]);
			size_t len = std::min(seg, n - off);

			EXPECT_NE(m, nullptr);
			uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
			for (size_t k = 0; k < len; k++)
				p[k] = (uint8_t)((off + k) * 7);
			if (head == nullptr)
				head = m;
			else
				EXPECT_EQ(rte_pktmbuf_chain(head, m), 0);
		}
		return head;
	}

	struct rte_ring *ab_ = nullptr, *ba_ = nullptr;
	uint16_t port_id_[2] = { 0, 0 };
	struct rte_mempool *pool_[2] = { nullptr, nullptr };
	struct dtcp_config cfg_[2];
	struct dtcp_port *port_[2] = { nullptr, nullptr };
	struct dtcp_worker *w_[2] = { nullptr, nullptr };
	char err_[256] = "";
};

TEST_F(RingPair, MacLessDevice_TakesTheConfiguredMac)
{
	Open(false);
	struct rte_ether_addr own;
	ASSERT_EQ(rte_eth_macaddr_get(port_id_[0], &own), 0);
	EXPECT_TRUE(rte_is_zero_ether_addr(&own)) << "net_ring has no address of its own";
	w_[0] = dtcp_worker_create(&cfg_[0], port_[0], 0, 0, err_, sizeof(err_));
	ASSERT_NE(w_[0], nullptr) << err_;
}

TEST_F(RingPair, LinearizeTx_ChainsArriveAsOneSegment)
{
	Open(true);
	struct rte_mbuf *tx[2] = { Chain(1400, 500), Chain(60, 60) }, *rx[4];

	ASSERT_EQ(dtcp_port_tx(port_[0], tx, 2), 2);
	ASSERT_EQ(dtcp_port_rx(port_[1], rx, 4), 2);
	EXPECT_EQ(rx[0]->nb_segs, 1);
	ASSERT_EQ(rx[0]->pkt_len, 1400u);
	EXPECT_EQ(rx[0]->data_len, 1400u);
	const uint8_t *p = rte_pktmbuf_mtod(rx[0], const uint8_t *);
	for (size_t k = 0; k < 1400; k++)
		ASSERT_EQ(p[k], (uint8_t)(k * 7)) << "byte " << k;
	EXPECT_EQ(rx[1]->nb_segs, 1);
	EXPECT_EQ(rx[1]->pkt_len, 60u);
	rte_pktmbuf_free_bulk(rx, 2);
}

TEST_F(RingPair, WithoutLinearize_ChainsCrossAsTheyAre)
{
	Open(false);
	struct rte_mbuf *tx = Chain(1400, 500), *rx = nullptr;

	ASSERT_EQ(dtcp_port_tx(port_[0], &tx, 1), 1);
	ASSERT_EQ(dtcp_port_rx(port_[1], &rx, 1), 1);
	EXPECT_EQ(rx->nb_segs, 3) << "the chain as it was sent";
	rte_pktmbuf_free(rx);
}

TEST_F(RingPair, LinearizeTx_OnlyForEthdevPorts)
{
	struct rte_ether_addr mac = {};
	struct dtcp_port *mem = dtcp_memport_create(&mac, 1500, pool_[0], 16);

	ASSERT_NE(mem, nullptr);
	EXPECT_EQ(dtcp_ethdev_port_linearize_tx(mem), -EINVAL);
	dtcp_port_destroy(mem);
}

// The benchmark's set-up in small: a stream from worker 1 to worker 0, 2 %
// of frames lost each way by the fault stage, time driven by hand.
struct Sink {
	uint64_t bytes = 0;
	uint64_t bad = 0;
	bool peer_closed = false;
	struct dtcp_conn *conn = nullptr;
};

struct Source {
	std::vector<uint8_t> data;
	uint64_t sent = 0;
	bool writable = false, closed = false;
	int error = 0;
	struct dtcp_conn *conn = nullptr;
};

void SinkEvent(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	Sink *s = (Sink *)ev->user;

	switch (ev->type) {
	case DTCP_EV_ACCEPTABLE:
		s->conn = dtcp_tcp_accept(w, ev->conn, SinkEvent, s);
		return;
	case DTCP_EV_DATA:
		for (struct rte_mbuf *seg = ev->data; seg != nullptr; seg = seg->next) {
			const uint8_t *p = rte_pktmbuf_mtod(seg, const uint8_t *);
			for (uint16_t k = 0; k < seg->data_len; k++, s->bytes++)
				s->bad += p[k] != (uint8_t)(s->bytes * 13 + (s->bytes >> 11));
		}
		rte_pktmbuf_free(ev->data);
		return;
	case DTCP_EV_PEER_CLOSED:
		s->peer_closed = true;
		dtcp_tcp_close(w, ev->conn);
		return;
	case DTCP_EV_CONNECTED:
	case DTCP_EV_WRITABLE:
	case DTCP_EV_CLOSED:
		return;
	}
}

void SourceFill(struct dtcp_worker *w, Source *s)
{
	while (s->writable && s->sent < s->data.size()) {
		uint32_t len = (uint32_t)std::min<uint64_t>(16384, s->data.size() - s->sent);
		int n = dtcp_tcp_send_copy(w, s->conn, s->data.data() + s->sent, len);

		ASSERT_GE(n, 0);
		s->sent += (uint32_t)n;
		if ((uint32_t)n < len)
			s->writable = false;
	}
	if (s->sent == s->data.size() && s->writable) {
		EXPECT_EQ(dtcp_tcp_shutdown(w, s->conn), 0);
		s->writable = false;
	}
}

void SourceEvent(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	Source *s = (Source *)ev->user;

	switch (ev->type) {
	case DTCP_EV_CONNECTED:
	case DTCP_EV_WRITABLE:
		s->writable = true;
		SourceFill(w, s);
		return;
	case DTCP_EV_DATA:
		rte_pktmbuf_free(ev->data);
		return;
	case DTCP_EV_PEER_CLOSED:
		dtcp_tcp_close(w, ev->conn);
		s->closed = true;
		return;
	case DTCP_EV_CLOSED:
		s->error = ev->error;
		s->closed = true;
		return;
	case DTCP_EV_ACCEPTABLE:
		return;
	}
}

TEST_F(RingPair, TwoWorkers_StreamExactUnderFaultLossBothWays)
{
	const uint64_t kBytes = 256 * 1024;
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(Set(i, "fault", "tx_loss", "2"), 0);
		ASSERT_EQ(Set(i, "fault", "seed", "3"), 0);
		ASSERT_EQ(Set(i, "tcp", "congestion", "cubic"), 0);
	}
	Open(true);
	uint64_t now = 1000000000ull;
	for (int i = 0; i < 2; i++) {
		w_[i] = dtcp_worker_create(&cfg_[i], port_[i], (unsigned)i, now, err_, sizeof(err_));
		ASSERT_NE(w_[i], nullptr) << err_;
	}
	Sink sink;
	Source source;
	source.data.resize(kBytes);
	for (uint64_t k = 0; k < kBytes; k++)
		source.data[k] = (uint8_t)(k * 13 + (k >> 11));
	struct dtcp_conn *listener = nullptr;
	ASSERT_EQ(dtcp_tcp_listen(w_[0], 0, 5001, nullptr, SinkEvent, &sink, &listener), 0);
	ASSERT_EQ(dtcp_tcp_connect(w_[1], 0xc6120001, 5001, 0, 0, SourceEvent, &source, &source.conn), 0);

	// 50 us a step, at most 120 s of fake time.
	for (unsigned step = 0; step < 2400000 && !(sink.peer_closed && source.closed); step++) {
		now += 50000;
		dtcp_worker_poll(w_[1], now);
		dtcp_worker_poll(w_[0], now);
	}
	EXPECT_TRUE(sink.peer_closed);
	EXPECT_TRUE(source.closed);
	EXPECT_EQ(source.error, 0);
	EXPECT_EQ(sink.bytes, kBytes);
	EXPECT_EQ(sink.bad, 0u);
	dtcp_tcp_close(w_[0], listener);
	for (int i = 0; i < 2; i++) {
		dtcp_worker_release_held(w_[i]);
		const uint64_t *c = dtcp_worker_counters(w_[i]);
		uint64_t ended = 0;
		for (unsigned k = 0; k < DTCP_CTR_MAX; k++)
			if (dtcp_ctr_kind((enum dtcp_ctr)k) == DTCP_CTR_KIND_DROP ||
			    dtcp_ctr_kind((enum dtcp_ctr)k) == DTCP_CTR_KIND_END)
				ended += c[k];
		EXPECT_EQ(c[DTCP_CTR_rx_frames], ended) << "worker " << i;
		EXPECT_GT(c[DTCP_CTR_fault_tx_drop], 0u) << "worker " << i << " lost frames";
	}
	EXPECT_GT(dtcp_worker_counters(w_[1])[DTCP_CTR_tcp_rexmit], 0u);
}

} // namespace
