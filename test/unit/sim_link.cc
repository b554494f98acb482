// SPDX-License-Identifier: BSD-3-Clause
#include "sim_link.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>

#include <rte_errno.h>
#include <rte_malloc.h>

const Mac SimLink::kMacA = { { 0x02, 0x00, 0x00, 0x00, 0x0a, 0x01 } };
const Mac SimLink::kMacB = { { 0x02, 0x00, 0x00, 0x00, 0x0b, 0x02 } };

// Ethernet preamble, start delimiter, FCS and inter-frame gap: what a frame
// costs on the wire beyond the bytes the port hands over.
static constexpr uint64_t kWireOverhead = 8 + 4 + 12;
// Rounds of deliver-and-poll at one instant, and polls of one worker for
// one round, before the link declares a livelock.
static constexpr unsigned kMaxRounds = 10000;
static constexpr unsigned kMaxPollsPerRound = 10000;

static uint64_t SplitMix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

// Blocks allocated from DPDK's heap (rings, mempools, the workers).
static uint64_t HeapBlocks()
{
	struct rte_malloc_socket_stats st;
	uint64_t n = 0;

	for (unsigned i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			n += st.alloc_count;
	return n;
}

LinkFaults LinkFaults::Percent(double loss, double reorder, double dup, double corrupt)
{
	LinkFaults f;

	f.loss = loss / 100;
	f.reorder = reorder / 100;
	f.dup = dup / 100;
	f.corrupt = corrupt / 100;
	return f;
}

bool LinkStats::operator==(const LinkStats &o) const
{
	return offered == o.offered && bytes == o.bytes && tail_dropped == o.tail_dropped &&
	       lost == o.lost && duplicated == o.duplicated && reordered == o.reordered &&
	       corrupted == o.corrupted && delivered == o.delivered &&
	       inject_failed == o.inject_failed && max_queue == o.max_queue;
}

std::string LinkStats::ToString() const
{
	std::ostringstream s;

	s << "offered=" << offered << " bytes=" << bytes << " tail_dropped=" << tail_dropped
	  << " lost=" << lost << " duplicated=" << duplicated << " reordered=" << reordered
	  << " corrupted=" << corrupted << " delivered=" << delivered
	  << " inject_failed=" << inject_failed << " max_queue=" << max_queue;
	return s.str();
}

// --- The link -------------------------------------------------------------------------

SimLink::SimLink(uint64_t seed, const LinkFaults &ab, const LinkFaults &ba) : seed_(seed)
{
	char err[128];

	for (int s = 0; s < 2; s++) {
		dtcp_config_defaults(&side_[s].cfg);
		const char *addr = s == 0 ? "198.18.0.1/24" : "198.18.0.2/24";
		int rc = dtcp_config_set(&side_[s].cfg, "ip", "address", addr, err, sizeof(err));
		EXPECT_EQ(rc, 0) << err;
	}
	dir_[AtoB].f = ab;
	dir_[BtoA].f = ba;
	// One stream of draws per direction: what happens one way does not move
	// the other way's faults.
	dir_[AtoB].rng.seed(SplitMix64(seed ^ 0x41));
	dir_[BtoA].rng.seed(SplitMix64(seed ^ 0x42));
}

SimLink::~SimLink()
{
	Destroy();
}

::testing::AssertionResult SimLink::Start(unsigned pool_size)
{
	static unsigned seq;

	heap_blocks_before_ = HeapBlocks();
	for (int s = 0; s < 2; s++) {
		Side &sd = side_[s];
		char name[RTE_MEMPOOL_NAMESIZE];
		char err[256] = "";
		struct rte_ether_addr mac;
		uint8_t key[16];

		snprintf(name, sizeof(name), "sim_pool%u", seq++);
		// No per-lcore cache, so the in-use count is exact.
		sd.pool = rte_pktmbuf_pool_create(name, pool_size, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
						  SOCKET_ID_ANY);
		if (sd.pool == nullptr)
			return ::testing::AssertionFailure()
			       << "pool " << name << ": " << rte_strerror(rte_errno);
		sd.in_use_before = rte_mempool_in_use_count(sd.pool);
		memcpy(mac.addr_bytes, (s == 0 ? kMacA : kMacB).b, 6);
		sd.port = dtcp_memport_create(&mac, 1500, sd.pool, 4096);
		if (sd.port == nullptr)
			return ::testing::AssertionFailure() << "memport " << s;
		dtcp_memport_set_offloads(sd.port, tx_offloads_, rx_offloads_, 0, 0);
		sd.w = dtcp_worker_create(&sd.cfg, sd.port, (unsigned)s, now_ns_, err, sizeof(err));
		if (sd.w == nullptr)
			return ::testing::AssertionFailure() << "worker " << s << ": " << err;
		for (unsigned i = 0; i < 16; i += 8) {
			uint64_t k = SplitMix64(seed_ * 4 + (uint64_t)s * 2 + i / 8);

			memcpy(key + i, &k, 8);
		}
		int rc = dtcp_tcp_set_secret(sd.w, key);
		if (rc != 0)
			return ::testing::AssertionFailure() << "dtcp_tcp_set_secret: " << rc;
	}
	return ::testing::AssertionSuccess();
}

void SimLink::At(uint64_t ns, std::function<void()> fn)
{
	actions_.push_back(Action{ ns, order_++, std::move(fn) });
}

double SimLink::Uniform(Direction &d)
{
	return (double)(d.rng() >> 11) * 0x1.0p-53;
}

// A frame the worker of side `from` sent: through the queue and the
// serialiser of its direction, then the faults of the wire.
void SimLink::Transmit(int from, Bytes frame)
{
	Direction &d = dir_[from];
	uint64_t depart = now_ns_;

	if (tap_)
		tap_(now_ns_, kSent, from, frame);
	d.stats.offered++;
	d.stats.bytes += frame.size();
	if (d.f.bandwidth_bps != 0) {
		while (!d.queue.empty() && d.queue.front() <= now_ns_)
			d.queue.pop_front();
		if (d.queue.size() >= d.f.queue_frames) {
			d.stats.tail_dropped++;
			return;
		}
		uint64_t bits = (frame.size() + kWireOverhead) * 8;
		uint64_t bps = d.f.bandwidth_bps;
		uint64_t ser_ns = (bits * 1000000000ull + bps - 1) / bps;

		depart = std::max(now_ns_, d.busy_until) + ser_ns;
		d.busy_until = depart;
		d.queue.push_back(depart);
		d.stats.max_queue = std::max<uint64_t>(d.stats.max_queue, d.queue.size());
	}
	// Every draw is made for every frame, so a fault rate changes which
	// frames it hits, not the draws the other faults see.
	double u_loss = Uniform(d), u_dup = Uniform(d);
	if (u_loss < d.f.loss) {
		d.stats.lost++;
		return;
	}
	int copies = u_dup < d.f.dup ? 2 : 1;
	if (copies == 2)
		d.stats.duplicated++;
	for (int c = 0; c < copies; c++) {
		Frame f{ depart + d.f.delay_ns, order_++, 1 - from, frame };
		double u_reorder = Uniform(d), u_corrupt = Uniform(d);
		uint64_t r_extra = d.rng(), r_byte = d.rng(), r_bit = d.rng();

		if (u_reorder < d.f.reorder) {
			uint64_t span = d.f.reorder_max_ns - d.f.reorder_min_ns + 1;

			f.at += d.f.reorder_min_ns + r_extra % span;
			d.stats.reordered++;
		}
		// IPv4 only, and only between the end of the IP header and the end of
		// the datagram (not the Ethernet header, not link-layer padding).
		if (u_corrupt < d.f.corrupt && f.bytes.size() >= 14 + 20 && f.bytes[12] == 0x08 &&
		    f.bytes[13] == 0x00) {
			size_t ihl = (f.bytes[14] & 0xfu) * 4u;
			size_t total = (size_t)f.bytes[16] << 8 | f.bytes[17];
			size_t end = 14 + std::min(total, f.bytes.size() - 14);

			if (14 + ihl < end) {
				size_t at = 14 + ihl + r_byte % (end - 14 - ihl);

				f.bytes[at] ^= (uint8_t)(1u << (r_bit % 8));
				d.stats.corrupted++;
			}
		}
		wire_.push(std::move(f));
	}
}

// Every frame due at now, into the receiving port, as one fresh mbuf from
// the receiver's pool.
void SimLink::Deliver()
{
	while (!wire_.empty() && wire_.top().at <= now_ns_) {
		const Frame &f = wire_.top();
		Side &to = side_[f.to];
		LinkStats &st = dir_[1 - f.to].stats;
		struct rte_mbuf *m = rte_pktmbuf_alloc(to.pool);
		char *p = m != nullptr ? rte_pktmbuf_append(m, (uint16_t)f.bytes.size()) : nullptr;

		if (p == nullptr) {
			rte_pktmbuf_free(m);
			st.inject_failed++;
		} else {
			memcpy(p, f.bytes.data(), f.bytes.size());
			if (dtcp_memport_inject(to.port, m) == 0) {
				st.delivered++;
				if (tap_)
					tap_(now_ns_, kDelivered, f.to, f.bytes);
			} else {
				rte_pktmbuf_free(m);
				st.inject_failed++;
			}
		}
		wire_.pop();
	}
}

// Poll each worker until its RX ring is empty, putting what it sends on the
// link after every poll.
bool SimLink::PollAll()
{
	for (int s = 0; s < 2; s++) {
		Side &sd = side_[s];
		unsigned n = 0;

		do {
			if (++n > kMaxPollsPerRound)
				return false;
			dtcp_worker_poll(sd.w, now_ns_);
			polls_++;
			struct rte_mbuf *m;
			while (dtcp_memport_take(sd.port, &m, 1) == 1) {
				std::vector<Bytes> wire = NicTransmit(m);

				rte_pktmbuf_free(m);
				for (Bytes &b : wire)
					Transmit(s, std::move(b));
			}
		} while (dtcp_memport_pending_rx(sd.port) > 0);
	}
	return true;
}

bool SimLink::Step()
{
	for (unsigned round = 0;; round++) {
		if (round == kMaxRounds)
			return false;
		// Application actions due now, in the order they were asked for.
		std::vector<Action> due;
		for (size_t i = 0; i < actions_.size();) {
			if (actions_[i].at <= now_ns_) {
				due.push_back(std::move(actions_[i]));
				actions_.erase(actions_.begin() + (long)i);
			} else {
				i++;
			}
		}
		std::sort(due.begin(), due.end(), [](const Action &a, const Action &b) {
			return a.at != b.at ? a.at < b.at : a.order < b.order;
		});
		for (Action &a : due)
			a.fn();
		Deliver();
		if (!PollAll())
			return false;
		bool more = !wire_.empty() && wire_.top().at <= now_ns_;
		for (const Action &a : actions_)
			more = more || a.at <= now_ns_;
		if (!more)
			break;
	}
	uint64_t next = (now_ns_ / kIdleStepNs + 1) * kIdleStepNs;
	if (!wire_.empty())
		next = std::min(next, wire_.top().at);
	for (const Action &a : actions_)
		next = std::min(next, a.at);
	now_ns_ = next;
	steps_++;
	return true;
}

::testing::AssertionResult SimLink::RunUntil(const std::function<bool()> &done,
					     uint64_t deadline_ns, uint64_t max_steps)
{
	for (uint64_t n = 0;; n++) {
		if (done())
			return ::testing::AssertionSuccess();
		if (now_ns_ > deadline_ns)
			return ::testing::AssertionFailure()
			       << "virtual time bound: " << (now_ns_ - kStartNs) / 1000000
			       << " ms since start, past the deadline of "
			       << (deadline_ns - kStartNs) / 1000000 << " ms";
		if (n == max_steps)
			return ::testing::AssertionFailure()
			       << "step bound: " << max_steps << " steps at "
			       << (now_ns_ - kStartNs) / 1000000 << " ms";
		if (!Step())
			return ::testing::AssertionFailure()
			       << "livelock: more than " << kMaxRounds << " rounds or "
			       << kMaxPollsPerRound << " polls at " << now_ns_ - kStartNs << " ns";
	}
}

bool SimLink::Quiet() const
{
	if (!wire_.empty())
		return false;
	for (const Side &sd : side_) {
		uint64_t counts[DTCP_TCP_STATE_MAX];

		if (dtcp_memport_pending_rx(sd.port) != 0 || dtcp_memport_pending_tx(sd.port) != 0)
			return false;
		dtcp_tcp_state_counts(sd.w, counts);
		for (unsigned s = 0; s < DTCP_TCP_STATE_MAX; s++)
			if (s != DTCP_TCP_TIME_WAIT && s != DTCP_TCP_CLOSED && counts[s] != 0)
				return false;
	}
	return true;
}

int64_t SimLink::Unaccounted(const struct dtcp_worker *w)
{
	const uint64_t *c = dtcp_worker_counters(w);
	uint64_t ends = 0;

	for (unsigned i = 0; i < DTCP_CTR_MAX; i++)
		if (dtcp_ctr_kind((enum dtcp_ctr)i) == DTCP_CTR_KIND_DROP ||
		    dtcp_ctr_kind((enum dtcp_ctr)i) == DTCP_CTR_KIND_END)
			ends += c[i];
	return (int64_t)(c[DTCP_CTR_rx_frames] - ends);
}

void SimLink::Destroy()
{
	for (Side &sd : side_) {
		dtcp_worker_destroy(sd.w);
		sd.w = nullptr;
		dtcp_port_destroy(sd.port);
		sd.port = nullptr;
	}
	for (Side &sd : side_) {
		rte_mempool_free(sd.pool);
		sd.pool = nullptr;
	}
	while (!wire_.empty())
		wire_.pop();
}

::testing::AssertionResult SimLink::Finish()
{
	std::ostringstream fail;

	for (int s = 0; s < 2; s++) {
		Side &sd = side_[s];

		if (sd.w == nullptr) {
			fail << "side " << s << " was never started; ";
			continue;
		}
		const uint64_t *c = dtcp_worker_counters(sd.w);
		final_ctr_[s].assign(c, c + DTCP_CTR_MAX);
		if (int64_t u = Unaccounted(sd.w); u != 0)
			fail << (s == 0 ? "A" : "B") << ": " << u
			     << " frame(s) received but in no DROP or END counter; ";
	}
	for (int s = 0; s < 2; s++) {
		Side &sd = side_[s];

		dtcp_worker_destroy(sd.w);
		sd.w = nullptr;
		dtcp_port_destroy(sd.port);
		sd.port = nullptr;
		if (sd.pool != nullptr && rte_mempool_in_use_count(sd.pool) != sd.in_use_before)
			fail << (s == 0 ? "A" : "B") << ": mbuf leak, "
			     << rte_mempool_in_use_count(sd.pool) << " in use, "
			     << sd.in_use_before << " before; ";
	}
	Destroy();
	if (HeapBlocks() != heap_blocks_before_)
		fail << "DPDK heap blocks: " << HeapBlocks() << " now, " << heap_blocks_before_
		     << " before; ";
	if (!fail.str().empty())
		return ::testing::AssertionFailure() << fail.str();
	return ::testing::AssertionSuccess();
}

// --- Streams ----------------------------------------------------------------------------

void StreamFill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t n)
{
	uint64_t key = SplitMix64(seed);
	size_t i = 0;

	while (i < n) {
		uint64_t off = offset + i;
		uint64_t word = SplitMix64(key ^ (off >> 3));
		unsigned from = (unsigned)(off & 7);
		unsigned take = (unsigned)std::min<size_t>(8 - from, n - i);

		for (unsigned k = 0; k < take; k++)
			buf[i + k] = (uint8_t)(word >> (8 * (from + k)));
		i += take;
	}
}

static constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
static constexpr uint64_t kFnvPrime = 0x100000001b3ull;

static uint64_t Fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= kFnvPrime;
	}
	return h;
}

uint64_t StreamHash(uint64_t seed, uint64_t n)
{
	uint8_t buf[4096];
	uint64_t h = kFnvOffset;

	for (uint64_t off = 0; off < n; off += sizeof(buf)) {
		size_t k = (size_t)std::min<uint64_t>(sizeof(buf), n - off);

		StreamFill(seed, off, buf, k);
		h = Fnv1a(h, buf, k);
	}
	return h;
}

// --- The applications --------------------------------------------------------------------

namespace {

struct App {
	const char *name;
	struct dtcp_conn *conn = nullptr;
	struct dtcp_conn *listener = nullptr;
	uint64_t tx_seed = 0, rx_seed = 0;
	uint64_t to_send = 0, expect = 0;
	EndpointReport r;
	std::string error;
	Bytes buf = Bytes(65536);

	void Fail(const std::string &what)
	{
		if (error.empty())
			error = std::string(name) + ": " + what;
	}

	bool Done() const
	{
		return r.sent == to_send && r.shut && r.peer_closed && r.received == expect;
	}

	// Send as much of the stream as the stack takes; then the FIN.
	void Pump(struct dtcp_worker *w)
	{
		if (conn == nullptr)
			return;
		while (r.sent < to_send) {
			uint64_t space = std::max<uint32_t>(dtcp_tcp_send_space(conn), 1);
			uint64_t n = std::min<uint64_t>({ to_send - r.sent, buf.size(), space });

			StreamFill(tx_seed, r.sent, buf.data(), n);
			int rc = dtcp_tcp_send_copy(w, conn, buf.data(), (uint32_t)n);
			if (rc < 0) {
				Fail("dtcp_tcp_send_copy: " + std::to_string(rc));
				return;
			}
			r.sent += (uint64_t)rc;
			if ((uint64_t)rc < n)
				return;     // DTCP_EV_WRITABLE follows
		}
		if (!r.shut) {
			int rc = dtcp_tcp_shutdown(w, conn);
			if (rc != 0)
				Fail("dtcp_tcp_shutdown: " + std::to_string(rc));
			r.shut = true;
		}
	}

	// The first wrong byte of k received at r.received.
	void Mismatch(const uint8_t *want, const uint8_t *got, size_t k)
	{
		for (size_t i = 0; i < k; i++)
			if (want[i] != got[i]) {
				r.first_mismatch = r.received + i;
				break;
			}
		Fail("wrong byte at offset " + std::to_string(r.first_mismatch));
	}

	void Receive(struct rte_mbuf *m)
	{
		uint8_t want[2048];

		r.data_events++;
		for (struct rte_mbuf *s = m; s != nullptr; s = s->next) {
			const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);
			uint64_t len = s->data_len;

			for (uint64_t off = 0; off < len; off += sizeof(want)) {
				size_t k = (size_t)std::min<uint64_t>(sizeof(want), len - off);

				if (r.received + k > expect) {
					Fail("more bytes than the peer sent: " +
					     std::to_string(r.received + k) + " > " +
					     std::to_string(expect));
					k = expect > r.received ? (size_t)(expect - r.received) : 0;
				}
				StreamFill(rx_seed, r.received, want, k);
				if (r.first_mismatch == UINT64_MAX && memcmp(want, p + off, k) != 0)
					Mismatch(want, p + off, k);
				r.rx_hash = Fnv1a(r.rx_hash, p + off, k);
				r.received += k;
			}
		}
		rte_pktmbuf_free(m);
	}

	static void OnEvent(struct dtcp_worker *w, const struct dtcp_event *ev)
	{
		App *a = static_cast<App *>(ev->user);

		if (ev->conn != a->listener)
			dtcp_conn_info(ev->conn, &a->r.info);
		switch (ev->type) {
		case DTCP_EV_ACCEPTABLE:
			while (struct dtcp_conn *c = dtcp_tcp_accept(w, ev->conn, OnEvent, a)) {
				if (a->conn != nullptr) {
					a->Fail("a second connection was accepted");
					dtcp_tcp_abort(w, c);
					continue;
				}
				a->conn = c;
				a->Pump(w);
			}
			break;
		case DTCP_EV_CONNECTED:
			a->Pump(w);
			break;
		case DTCP_EV_DATA:
			a->Receive(ev->data);
			break;
		case DTCP_EV_PEER_CLOSED:
			a->r.peer_closed = true;
			if (a->r.received != a->expect)
				a->Fail("peer closed after " + std::to_string(a->r.received) +
					" of " + std::to_string(a->expect) + " bytes");
			break;
		case DTCP_EV_WRITABLE:
			a->r.writable_events++;
			a->Pump(w);
			break;
		case DTCP_EV_CLOSED:
			a->r.closed_event = true;
			a->r.close_error = ev->error;
			if (ev->conn == a->listener) {
				a->listener = nullptr;
				a->Fail("listener closed");
				break;
			}
			a->conn = nullptr;   // the handle is invalid once we return
			if (ev->error != 0)
				a->Fail("closed with error " + std::to_string(ev->error));
			else if (!a->Done())
				a->Fail("connection closed before the transfer was done");
			break;
		}
	}
};

std::string Seconds(uint64_t ns)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.3f s", (double)ns / 1e9);
	return buf;
}

std::string FaultsString(const LinkFaults &f)
{
	char buf[160];

	snprintf(buf, sizeof(buf),
		 "loss %.2f%% reorder %.2f%% dup %.2f%% corrupt %.2f%% delay %.1f ms %.0f Mbit/s "
		 "queue %u",
		 f.loss * 100, f.reorder * 100, f.dup * 100, f.corrupt * 100,
		 (double)f.delay_ns / 1e6, (double)f.bandwidth_bps / 1e6, f.queue_frames);
	return buf;
}

std::string CountersString(const std::vector<uint64_t> &c)
{
	std::string s;

	for (unsigned i = 0; i < c.size(); i++)
		if (c[i] != 0)
			s += std::string(s.empty() ? "" : " ") + dtcp_ctr_name((enum dtcp_ctr)i) +
			     "=" + std::to_string(c[i]);
	return s;
}

std::string InfoString(const EndpointReport &r)
{
	std::ostringstream s;

	// Sequence numbers relative to the initial ones, as tcpdump shows them.
	s << "state " << dtcp_tcp_state_name(r.info.state)
	  << " snd_una " << r.info.snd_una - r.info.iss
	  << " snd_nxt " << r.info.snd_nxt - r.info.iss << " snd_wnd " << r.info.snd_wnd
	  << " rcv_nxt " << r.info.rcv_nxt - r.info.irs << " rcv_wnd " << r.info.rcv_wnd
	  << " send_queued " << r.info.send_queued << " srtt " << r.info.srtt_us
	  << " us rto " << r.info.rto_ms << " ms cwnd " << r.info.cwnd << " ssthresh "
	  << r.info.ssthresh << " mss " << r.info.snd_mss << " total_retransmits "
	  << r.info.total_retransmits << "; app: sent " << r.sent << " received " << r.received
	  << " data_events " << r.data_events << " writable_events " << r.writable_events;
	return s.str();
}

} // namespace

double TransferReport::GoodputMbps(const TransferSpec &s) const
{
	if (transfer_ns == 0)
		return 0;
	return (double)(s.bytes_ab + s.bytes_ba) * 8 / ((double)transfer_ns / 1e9) / 1e6;
}

std::string TransferReport::Summary(const TransferSpec &s) const
{
	std::ostringstream o;
	char gp[64];

	snprintf(gp, sizeof(gp), "%.2f Mbit/s", GoodputMbps(s));
	o << "[transfer] seed " << s.seed << ", A->B " << s.bytes_ab << " B, B->A " << s.bytes_ba
	  << " B" << (completed ? "" : ", NOT COMPLETED: " + failure) << "\n"
	  << "  link A->B: " << FaultsString(s.ab) << "\n"
	  << "  link B->A: " << FaultsString(s.ba) << "\n"
	  << "  virtual time: " << Seconds(transfer_ns) << " to both PEER_CLOSED, "
	  << Seconds(total_ns) << " to quiet after close; goodput " << gp
	  << " (both directions summed); " << steps << " steps, " << polls << " polls\n"
	  << "  wire A->B: " << link_ab.ToString() << "\n"
	  << "  wire B->A: " << link_ba.ToString() << "\n"
	  << "  conn A: " << InfoString(a) << "\n"
	  << "  conn B: " << InfoString(b) << "\n"
	  << "  counters A: " << CountersString(ctr_a) << "\n"
	  << "  counters B: " << CountersString(ctr_b) << "\n";
	return o.str();
}

std::string TransferReport::Fingerprint() const
{
	std::ostringstream o;

	o << completed << "|" << transfer_ns << "|" << total_ns << "|" << a.received << "|"
	  << a.rx_hash << "|" << b.received << "|" << b.rx_hash << "|" << link_ab.ToString()
	  << "|" << link_ba.ToString() << "|" << CountersString(ctr_a) << "|"
	  << CountersString(ctr_b) << "|" << steps << "|" << polls;
	return o.str();
}

TransferReport RunTransfer(const TransferSpec &spec)
{
	TransferReport rep;
	SimLink link(spec.seed, spec.ab, spec.ba);
	App a, b;

	a.name = "A";
	b.name = "B";
	a.tx_seed = b.rx_seed = SplitMix64(SplitMix64(spec.seed) + 1);
	b.tx_seed = a.rx_seed = SplitMix64(SplitMix64(spec.seed) + 2);
	a.to_send = b.expect = spec.bytes_ab;
	b.to_send = a.expect = spec.bytes_ba;
	a.r.rx_hash = b.r.rx_hash = kFnvOffset;
	rep.expect_hash_ab = StreamHash(a.tx_seed, spec.bytes_ab);
	rep.expect_hash_ba = StreamHash(b.tx_seed, spec.bytes_ba);

	if (spec.tap)
		link.SetTap(spec.tap);
	link.SetOffloads(spec.tx_offloads, spec.rx_offloads);
	if (spec.configure) {
		spec.configure(link.ConfigA());
		spec.configure(link.ConfigB());
	}
	::testing::AssertionResult started = link.Start();
	EXPECT_TRUE(started);
	if (!started) {
		rep.failure = started.message();
		return rep;
	}

	int rc = dtcp_tcp_listen(link.B(), SimLink::kIpB, spec.port, nullptr, App::OnEvent, &b,
			     &b.listener);
	EXPECT_EQ(rc, 0) << "dtcp_tcp_listen";
	uint64_t t0 = link.Now();
	link.At(t0, [&] {
		int r = dtcp_tcp_connect(link.A(), SimLink::kIpB, spec.port, SimLink::kIpA, 0,
				     App::OnEvent, &a, &a.conn);
		if (r != 0)
			a.Fail("dtcp_tcp_connect: " + std::to_string(r));
		else
			a.Pump(link.A());     // data may be queued from SYN-SENT on
	});

	::testing::AssertionResult run = link.RunUntil(
		[&] { return (a.Done() && b.Done()) || !a.error.empty() || !b.error.empty(); },
		t0 + spec.max_virtual_ns, spec.max_steps);
	rep.transfer_ns = link.Now() - t0;
	// The connections as they stand at the end (else as their last event left them).
	if (a.conn != nullptr)
		dtcp_conn_info(a.conn, &a.r.info);
	if (b.conn != nullptr)
		dtcp_conn_info(b.conn, &b.r.info);
	rep.a = a.r;
	rep.b = b.r;
	rep.completed = run && a.Done() && b.Done() && a.error.empty() && b.error.empty();
	if (!run)
		rep.failure = run.message();
	else if (!a.error.empty() || !b.error.empty())
		rep.failure = a.error + (a.error.empty() || b.error.empty() ? "" : "; ") + b.error;
	if (!rep.completed && rep.failure.empty())
		rep.failure = "transfer incomplete";

	// Both applications are done with their handles; the stacks finish the
	// close (FIN retransmissions, TIME-WAIT) on their own.
	if (a.conn != nullptr)
		dtcp_tcp_close(link.A(), a.conn);
	if (b.conn != nullptr)
		dtcp_tcp_close(link.B(), b.conn);
	if (b.listener != nullptr)
		dtcp_tcp_close(link.B(), b.listener);
	a.conn = b.conn = b.listener = nullptr;
	if (rep.completed) {
		::testing::AssertionResult quiet =
			link.RunUntil([&] { return link.Quiet(); },
				      link.Now() + spec.drain_virtual_ns, spec.max_steps);
		if (!quiet)
			rep.failure = "after close, not quiet: " + std::string(quiet.message());
		EXPECT_TRUE(quiet) << "closing";
	}
	rep.total_ns = link.Now() - t0;
	rep.link_ab = link.Stats(SimLink::AtoB);
	rep.link_ba = link.Stats(SimLink::BtoA);
	rep.steps = link.Steps();
	rep.polls = link.Polls();
	::testing::AssertionResult fin = link.Finish();
	EXPECT_TRUE(fin) << "end-of-test checks";
	rep.ctr_a = link.FinalCounters(0);
	rep.ctr_b = link.FinalCounters(1);
	return rep;
}
